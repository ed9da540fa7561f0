"""Starts mstored for the LMTP benchmarks (lmtp-bench.py, lmtp-ab.py): users user1..userN with
password "pass" in a new data directory, LMTP on a loopback port the kernel picks."""
import os, subprocess


def start_mstored(daemon, mstore, data, users):
    """Returns the daemon's process and its LMTP port, once it says it is ready."""
    env = dict(os.environ, MSTORE_DATA=data)
    for i in range(1, users + 1):
        subprocess.run([mstore, "user", "add", "user%d" % i, "--password-stdin"], input=b"pass\n",
                       env=env, check=True, capture_output=True)
    p = subprocess.Popen([daemon, "--data", data, "--lmtp", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = None
    for line in p.stdout:
        line = line.decode().strip()
        if line.startswith("mstored: listening lmtp"):
            port = int(line.rsplit(":", 1)[1])
        if line == "mstored: ready":
            return p, port
    raise RuntimeError("%s did not start (exit status %s)" % (daemon, p.wait()))
