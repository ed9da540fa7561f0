/*
 * loadclient: a lean POP3 and LMTP load client for the benchmark scripts in Tools/bench.
 *
 * The Python clients used to share the machine's two cores with the server and, on the
 * sequential POP3 and the many-connection LMTP figures, measured themselves more than the
 * server. This client does the same exchanges with little CPU of its own, and checks every
 * reply so that a broken server cannot look fast. The scripts use it for both servers in the
 * same run.
 *
 *   loadclient pop3 --port P --user U --pass W --count N --mode seq|pipe [--window K]
 *     USER/PASS, STAT (must say N), LIST (the sizes to check against), then RETR 1..N, timed:
 *     seq sends one RETR at a time; pipe keeps up to K RETRs outstanding (RFC 2449 PIPELINING
 *     style; the commands are small, so the window also bounds what sits in the send buffer).
 *     Each RETR must answer +OK and end with the CRLF.CRLF terminator, and its dot-unstuffed
 *     size must equal the octets LIST gave for it (RFC 1939 §5: LIST gives the exact size).
 *     Prints: ok messages=N octets=O wire=B seconds=S
 *
 *   loadclient lmtp --port P --connections C --seconds S [--user-prefix user] [--first 1]
 *                   [--size 4096]
 *     C threads, thread i connecting as recipient <prefix(first+i)>: LHLO once, then MAIL, RCPT
 *     and DATA in one write (RFC 2920 PIPELINING), expecting 250, 250, 354, then the message
 *     and its terminator, expecting one 250 (RFC 2033: one reply per accepted recipient). All
 *     threads start together once every connection is set up; a delivery counts if its 250
 *     arrives before the deadline.
 *     Prints: ok deliveries=D seconds=S per_connection=d1,d2,...
 *
 * Any unexpected reply, short read or closed connection prints the reason to stderr and
 * exits with status 1. Built by the scripts with `gcc -O2 -pthread`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { READ_BUFFER_SIZE = 1 << 20 };

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("loadclient: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("bad IPv4 address %s", host);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect %s:%d: %s", host, port, strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = send(fd, data, length, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("send: %s", strerror(errno));
        }
        data += n;
        length -= (size_t)n;
    }
}

/* A receive buffer that hands out CRLF-terminated lines. */
typedef struct {
    int fd;
    char *data;
    size_t start, end;  /* unread bytes are data[start..<end] */
    uint64_t received;  /* every byte read from the socket */
} Reader;

static void reader_init(Reader *r, int fd) {
    r->fd = fd;
    r->data = malloc(READ_BUFFER_SIZE);
    if (!r->data) die("out of memory");
    r->start = r->end = 0;
    r->received = 0;
}

/* Reads more bytes, moving the unread ones to the front first. */
static void reader_fill(Reader *r) {
    if (r->start > 0) {
        memmove(r->data, r->data + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == READ_BUFFER_SIZE) die("a line longer than %d bytes", READ_BUFFER_SIZE);
    for (;;) {
        ssize_t n = recv(r->fd, r->data + r->end, READ_BUFFER_SIZE - r->end, 0);
        if (n > 0) {
            r->end += (size_t)n;
            r->received += (uint64_t)n;
            return;
        }
        if (n == 0) die("connection closed by the server");
        if (errno != EINTR) die("recv: %s", strerror(errno));
    }
}

/* The next complete line without its CRLF, or NULL when the buffer holds none. A bare LF is an
 * error: both protocols end lines with CRLF. */
static const char *reader_line(Reader *r, size_t *length) {
    char *begin = r->data + r->start;
    char *lf = memchr(begin, '\n', r->end - r->start);
    if (!lf) return NULL;
    if (lf == begin || lf[-1] != '\r') die("a line ending in a bare LF");
    *length = (size_t)(lf - 1 - begin);
    r->start = (size_t)(lf + 1 - r->data);
    return begin;
}

/* Like reader_line, but waits for the line. */
static const char *reader_next_line(Reader *r, size_t *length) {
    const char *line;
    while (!(line = reader_line(r, length))) reader_fill(r);
    return line;
}

/* ---- POP3 (RFC 1939) ---- */

static const char *pop3_ok(Reader *r, const char *command) {
    size_t length;
    const char *line = reader_next_line(r, &length);
    if (length < 3 || memcmp(line, "+OK", 3) != 0) die("%s: %.*s", command, (int)length, line);
    return line;
}

static void pop3_command(int fd, Reader *r, const char *command) {
    char buffer[512];
    int n = snprintf(buffer, sizeof buffer, "%s\r\n", command);
    send_all(fd, buffer, (size_t)n);
    pop3_ok(r, command);
}

/* Checks the RETR responses as they arrive; one instance per session. */
typedef struct {
    const uint64_t *sizes; /* sizes[i] is message i+1's octets from LIST */
    long count;            /* messages to retrieve */
    long done;             /* complete responses so far */
    int in_body;           /* between the +OK line and the terminator */
    uint64_t octets;       /* dot-unstuffed octets of the current message */
    uint64_t total_octets;
} RetrChecker;

/* Consumes every complete line in the buffer. */
static void retr_consume(RetrChecker *c, Reader *r) {
    size_t length;
    const char *line;
    while ((line = reader_line(r, &length))) {
        if (!c->in_body) {
            if (c->done >= c->count) die("a reply after the last RETR: %.*s", (int)length, line);
            if (length < 3 || memcmp(line, "+OK", 3) != 0) die("RETR %ld: %.*s", c->done + 1, (int)length, line);
            c->in_body = 1;
            c->octets = 0;
        } else if (length == 1 && line[0] == '.') {
            if (c->octets != c->sizes[c->done])
                die("RETR %ld gave %llu octets, LIST said %llu", c->done + 1, (unsigned long long)c->octets,
                    (unsigned long long)c->sizes[c->done]);
            c->total_octets += c->octets;
            c->in_body = 0;
            c->done++;
        } else {
            /* RFC 1939 §3: a line that starts with '.' has had one more '.' put in front. */
            c->octets += (length > 0 && line[0] == '.' ? length - 1 : length) + 2;
        }
    }
}

static int run_pop3(const char *host, int port, const char *user, const char *password, long count, int pipelined,
                    long window) {
    int fd = connect_to(host, port);
    Reader r;
    reader_init(&r, fd);
    char command[512];

    pop3_ok(&r, "greeting");
    snprintf(command, sizeof command, "USER %s", user);
    pop3_command(fd, &r, command);
    snprintf(command, sizeof command, "PASS %s", password);
    pop3_command(fd, &r, command);

    send_all(fd, "STAT\r\n", 6);
    const char *stat = pop3_ok(&r, "STAT");
    long messages = 0;
    unsigned long long drop_size = 0;
    if (sscanf(stat, "+OK %ld %llu", &messages, &drop_size) != 2) die("STAT: cannot read the reply");
    if (messages != count) die("STAT says %ld messages, expected %ld", messages, count);

    uint64_t *sizes = calloc((size_t)count, sizeof *sizes);
    if (!sizes) die("out of memory");
    send_all(fd, "LIST\r\n", 6);
    pop3_ok(&r, "LIST");
    uint64_t listed_total = 0;
    for (long i = 0;; i++) {
        size_t length;
        const char *line = reader_next_line(&r, &length);
        if (length == 1 && line[0] == '.') {
            if (i != count) die("LIST gave %ld lines, expected %ld", i, count);
            break;
        }
        long number;
        unsigned long long size;
        if (i >= count || sscanf(line, "%ld %llu", &number, &size) != 2 || number != i + 1)
            die("LIST: unexpected line %.*s", (int)length, line);
        sizes[i] = size;
        listed_total += size;
    }
    if (listed_total != drop_size) die("LIST sizes add up to %llu, STAT said %llu", (unsigned long long)listed_total, drop_size);

    RetrChecker checker = {.sizes = sizes, .count = count};
    uint64_t received_before = r.received - (r.end - r.start);
    if (r.end != r.start) die("unexpected bytes after LIST");
    double started = now();
    if (!pipelined) {
        for (long i = 1; i <= count; i++) {
            int n = snprintf(command, sizeof command, "RETR %ld\r\n", i);
            send_all(fd, command, (size_t)n);
            while (checker.done < i) {
                reader_fill(&r);
                retr_consume(&checker, &r);
            }
        }
    } else {
        /* Keep up to `window` RETRs outstanding; refill after each read. */
        size_t capacity = (size_t)window * 24 + 64;
        char *pending = malloc(capacity);
        if (!pending) die("out of memory");
        long sent = 0;
        while (checker.done < count) {
            size_t used = 0;
            while (sent < count && sent - checker.done < window)
                used += (size_t)snprintf(pending + used, capacity - used, "RETR %ld\r\n", ++sent);
            if (used) send_all(fd, pending, used);
            reader_fill(&r);
            retr_consume(&checker, &r);
        }
        free(pending);
    }
    double seconds = now() - started;
    if (checker.in_body || r.end != r.start) die("bytes after the last RETR response");
    uint64_t wire = r.received - received_before;

    send_all(fd, "QUIT\r\n", 6);
    pop3_ok(&r, "QUIT");
    close(fd);
    printf("ok messages=%ld octets=%llu wire=%llu seconds=%.6f\n", count, (unsigned long long)checker.total_octets,
           (unsigned long long)wire, seconds);
    free(sizes);
    free(r.data);
    return 0;
}

/* ---- LMTP (RFC 2033) ---- */

typedef struct {
    const char *host;
    int port;
    char user[128];
    size_t message_size;
    long deliveries;
} LmtpWorker;

static pthread_barrier_t ready_barrier, go_barrier;
static double deadline;

/* Reads one reply, multi-line or not, and returns its code; dies unless it is `expect`. */
static int smtp_reply(Reader *r, int expect, const char *user, const char *step) {
    for (;;) {
        size_t length;
        const char *line = reader_next_line(r, &length);
        if (length < 3) die("%s %s: short reply %.*s", user, step, (int)length, line);
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (code != expect) die("%s %s: %.*s", user, step, (int)length, line);
        if (length == 3 || line[3] == ' ') return code;
        if (line[3] != '-') die("%s %s: malformed reply %.*s", user, step, (int)length, line);
    }
}

/* A message of about `size` bytes, CRLF lines, no line starting with '.', then the terminator. */
static char *make_message(const char *user, long index, size_t size, size_t *length) {
    static const char line[] = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    char head[512];
    int head_length = snprintf(head, sizeof head,
                               "From: Bench Sender <sender@example.org>\r\nTo: %s@example.org\r\n"
                               "Subject: bench %ld\r\nMessage-ID: <bench.%d.%s.%ld@lmtp-bench>\r\n\r\n",
                               user, index, (int)getpid(), user, index);
    size_t lines = size > (size_t)head_length ? (size - (size_t)head_length) / (sizeof line - 1) : 1;
    size_t total = (size_t)head_length + lines * (sizeof line - 1) + 3;
    char *message = malloc(total);
    if (!message) die("out of memory");
    memcpy(message, head, (size_t)head_length);
    char *p = message + head_length;
    for (size_t i = 0; i < lines; i++, p += sizeof line - 1) memcpy(p, line, sizeof line - 1);
    memcpy(p, ".\r\n", 3);
    *length = total;
    return message;
}

static void *lmtp_worker(void *argument) {
    LmtpWorker *w = argument;
    int fd = connect_to(w->host, w->port);
    Reader r;
    reader_init(&r, fd);
    smtp_reply(&r, 220, w->user, "greeting");
    send_all(fd, "LHLO bench.example\r\n", 20);
    smtp_reply(&r, 250, w->user, "LHLO");

    char envelope[512];
    int envelope_length = snprintf(envelope, sizeof envelope,
                                   "MAIL FROM:<sender@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n", w->user);
    enum { MESSAGES = 64 };  /* distinct Message-IDs, reused round robin like the Python client */
    char *messages[MESSAGES];
    size_t lengths[MESSAGES];
    for (int i = 0; i < MESSAGES; i++) messages[i] = make_message(w->user, i, w->message_size, &lengths[i]);

    pthread_barrier_wait(&ready_barrier);
    pthread_barrier_wait(&go_barrier);
    long count = 0;
    while (now() < deadline) {
        send_all(fd, envelope, (size_t)envelope_length);
        smtp_reply(&r, 250, w->user, "MAIL");
        smtp_reply(&r, 250, w->user, "RCPT");
        smtp_reply(&r, 354, w->user, "DATA");
        send_all(fd, messages[count % MESSAGES], lengths[count % MESSAGES]);
        smtp_reply(&r, 250, w->user, "end of data");
        if (now() <= deadline) w->deliveries++;
        count++;
    }
    send_all(fd, "QUIT\r\n", 6);
    smtp_reply(&r, 221, w->user, "QUIT");
    close(fd);
    for (int i = 0; i < MESSAGES; i++) free(messages[i]);
    free(r.data);
    return NULL;
}

static int run_lmtp(const char *host, int port, int connections, double seconds, const char *prefix, int first,
                    size_t size) {
    LmtpWorker *workers = calloc((size_t)connections, sizeof *workers);
    pthread_t *threads = calloc((size_t)connections, sizeof *threads);
    if (!workers || !threads) die("out of memory");
    pthread_barrier_init(&ready_barrier, NULL, (unsigned)connections + 1);
    pthread_barrier_init(&go_barrier, NULL, (unsigned)connections + 1);
    for (int i = 0; i < connections; i++) {
        workers[i] = (LmtpWorker){.host = host, .port = port, .message_size = size};
        snprintf(workers[i].user, sizeof workers[i].user, "%s%d", prefix, first + i);
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setstacksize(&attributes, 256 * 1024);
        if (pthread_create(&threads[i], &attributes, lmtp_worker, &workers[i]) != 0) die("pthread_create failed");
        pthread_attr_destroy(&attributes);
    }
    pthread_barrier_wait(&ready_barrier);
    deadline = now() + seconds;
    pthread_barrier_wait(&go_barrier);
    long total = 0;
    for (int i = 0; i < connections; i++) {
        pthread_join(threads[i], NULL);
        total += workers[i].deliveries;
    }
    printf("ok deliveries=%ld seconds=%.3f per_connection=", total, seconds);
    for (int i = 0; i < connections; i++) printf(i ? ",%ld" : "%ld", workers[i].deliveries);
    putchar('\n');
    free(workers);
    free(threads);
    return 0;
}

static void usage(void) {
    fputs("usage: loadclient pop3 --port P --user U --pass W --count N --mode seq|pipe [--window K] [--host H]\n"
          "       loadclient lmtp --port P --connections C --seconds S [--user-prefix user] [--first 1]\n"
          "                       [--size 4096] [--host H]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    const char *protocol = argv[1];
    const char *host = "127.0.0.1", *user = NULL, *password = NULL, *mode = "seq", *prefix = "user";
    int port = 0, connections = 1, first = 1;
    long count = 0, window = 64;
    double seconds = 5;
    size_t size = 4096;
    static const struct option options[] = {
        {"host", required_argument, 0, 'h'},        {"port", required_argument, 0, 'p'},
        {"user", required_argument, 0, 'u'},        {"pass", required_argument, 0, 'w'},
        {"count", required_argument, 0, 'n'},       {"mode", required_argument, 0, 'm'},
        {"window", required_argument, 0, 'k'},      {"connections", required_argument, 0, 'c'},
        {"seconds", required_argument, 0, 's'},     {"user-prefix", required_argument, 0, 'x'},
        {"first", required_argument, 0, 'f'},       {"size", required_argument, 0, 'z'},
        {0, 0, 0, 0},
    };
    optind = 2;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'u': user = optarg; break;
        case 'w': password = optarg; break;
        case 'n': count = atol(optarg); break;
        case 'm': mode = optarg; break;
        case 'k': window = atol(optarg); break;
        case 'c': connections = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'x': prefix = optarg; break;
        case 'f': first = atoi(optarg); break;
        case 'z': size = (size_t)atol(optarg); break;
        default: usage();
        }
    }
    if (port <= 0) usage();
    if (strcmp(protocol, "pop3") == 0) {
        if (!user || !password || count <= 0 || window <= 0) usage();
        if (strcmp(mode, "seq") != 0 && strcmp(mode, "pipe") != 0) usage();
        return run_pop3(host, port, user, password, count, strcmp(mode, "pipe") == 0, window);
    }
    if (strcmp(protocol, "lmtp") == 0) {
        if (connections <= 0 || seconds <= 0 || size < 256) usage();
        return run_lmtp(host, port, connections, seconds, prefix, first, size);
    }
    usage();
    return 2;
}
