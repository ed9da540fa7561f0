"""Builds and runs loadclient.c, the C load client the POP3 and LMTP benchmarks use for both servers.

build() compiles it once per process into a temporary directory (gcc -O2 -pthread);
run(...) runs it and returns its "ok key=value ..." line as a dict of strings, raising
RuntimeError with the client's message when it found a wrong reply.
"""
import atexit, os, shutil, subprocess, tempfile

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loadclient.c")
_binary = None


def build():
    global _binary
    if _binary is None:
        directory = tempfile.mkdtemp(prefix="mstore-loadclient-")
        atexit.register(shutil.rmtree, directory, True)
        path = os.path.join(directory, "loadclient")
        subprocess.run(["gcc", "-O2", "-pthread", "-Wall", "-o", path, SOURCE], check=True)
        _binary = path
    return _binary


def run(protocol, **options):
    args = [build(), protocol]
    for key, value in options.items():
        args += ["--" + key.rstrip("_").replace("_", "-"), str(value)]  # pass_ is --pass
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.startswith("ok "):
        raise RuntimeError("loadclient %s: %s" % (protocol, (p.stderr or p.stdout).strip()))
    return dict(field.split("=", 1) for field in p.stdout.split()[1:])
