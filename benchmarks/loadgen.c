/*
 * A closed-loop load generator for one-line exchange servers, in C.
 *
 * Why C: the Python generator (loadgen.py) runs at ~98% of its core against
 * the bare Twisted baseline, so figures taken with it measure the generator
 * as much as the server.  This one does the same exchange for a fraction of
 * the CPU.  benchmarks/cgen.py compiles it at run time with the system's
 * compiler into a cache directory; no binary is committed.
 *
 * Each of C connection slots does, over and over for a fixed time: connect
 * to 127.0.0.1:PORT, send "bench\n", read the reply until the server closes
 * (EOF), check that it is one line, close, start again.  Latency runs from
 * the start of connect to EOF.  One thread, non-blocking sockets, epoll.
 *
 * Timeline: WARMUP seconds of load, then DURATION measured seconds, then up
 * to DRAIN seconds waiting for the exchanges still in flight (no new ones).
 * Throughput counts exchanges that ended inside the measured window;
 * latencies are those of exchanges that started inside it.  The
 * generator's own CPU time (getrusage) is read at both ends of the window,
 * so its share of a core while measuring is known.
 *
 * Bounded: only loopback is ever connected to, concurrency and times have
 * upper limits, latencies go to a fixed-size histogram (0.2% resolution)
 * whatever the duration, a reply longer than MAX_REPLY bytes is an error.
 *
 * Usage: loadgen PORT [-c 50] [-d 5] [--warmup 0] [--drain 5]
 * Prints one JSON object on stdout, with the same keys as loadgen.py.
 * Exit status 0, or 2 on a bad command line or a failure to set up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONCURRENCY 20000
#define MAX_DURATION 600.0
#define MAX_WARMUP 60.0
#define MAX_DRAIN 60.0
/* Longest reply accepted: names are at most a few KB. */
#define MAX_REPLY 65536
#define EVENTS 1024

static const char PAYLOAD[] = "bench\n";

/* ---- latency histogram: HDR-style, 1024 sub-buckets per power of two ---- */

#define SUB_BITS 10
#define SUB_COUNT (1 << SUB_BITS)
#define HALF_COUNT (SUB_COUNT / 2)
/* Values up to 2^41 ns (~36 minutes): beyond every bounded run. */
#define TOP_BIT 41
#define BUCKETS (SUB_COUNT + (TOP_BIT - SUB_BITS + 1) * HALF_COUNT)

static uint64_t histogram[BUCKETS];
static uint64_t samples;
static uint64_t latency_max_ns;

static int msb(uint64_t v) { return 63 - __builtin_clzll(v); }

static size_t bucket_of(uint64_t v) {
    if (v < SUB_COUNT) return (size_t)v;
    if (v >= (1ULL << TOP_BIT)) v = (1ULL << TOP_BIT) - 1;
    int shift = msb(v) - (SUB_BITS - 1);
    return SUB_COUNT + (size_t)(shift - 1) * HALF_COUNT + (size_t)((v >> shift) - HALF_COUNT);
}

/* The middle of a bucket's range of values, in ns. */
static double bucket_value(size_t index) {
    if (index < SUB_COUNT) return (double)index;
    size_t over = index - SUB_COUNT;
    int shift = (int)(over / HALF_COUNT) + 1;
    uint64_t low = (uint64_t)(over % HALF_COUNT + HALF_COUNT) << shift;
    return (double)low + (double)((1ULL << shift) - 1) / 2.0;
}

static void record_latency(uint64_t ns) {
    histogram[bucket_of(ns)]++;
    samples++;
    if (ns > latency_max_ns) latency_max_ns = ns;
}

/* Nearest-rank percentile in ms (0 with no samples). */
static double percentile_ms(double fraction) {
    if (samples == 0) return 0.0;
    uint64_t rank = (uint64_t)ceil(fraction * (double)samples);
    if (rank < 1) rank = 1;
    if (rank > samples) rank = samples;
    uint64_t seen = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        seen += histogram[i];
        if (seen >= rank) {
            double v = bucket_value(i);
            if (v > (double)latency_max_ns) v = (double)latency_max_ns;
            return v / 1e6;
        }
    }
    return (double)latency_max_ns / 1e6;
}

/* ---- errors, counted by kind ---- */

#define ERROR_KINDS 16
static const char *error_names[ERROR_KINDS];
static uint64_t error_counts[ERROR_KINDS];
static uint64_t errors_total;

static const char *errno_name(int e) {
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case EPIPE: return "EPIPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENOTCONN: return "ENOTCONN";
    default: return "other_errno";
    }
}

static void count_error(const char *kind) {
    errors_total++;
    for (int i = 0; i < ERROR_KINDS; i++) {
        if (error_names[i] == NULL) error_names[i] = kind;
        if (error_names[i] == kind || strcmp(error_names[i], kind) == 0) {
            error_counts[i]++;
            return;
        }
    }
    /* More kinds than slots: counted in the total only. */
}

/* ---- time and CPU ---- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

typedef struct {
    double user, sys;
} cpu_t;

static cpu_t cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    cpu_t c = {(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6};
    return c;
}

/* ---- the exchanges ---- */

enum slot_state { EMPTY, CONNECTING, READING };

typedef struct {
    int fd;
    enum slot_state state;
    uint64_t t0;
    size_t received;
    char last;
} slot_t;

static slot_t *slots;
static int epfd;
static struct sockaddr_in target;
static int active;
static uint64_t completed, in_window;

static void finish(slot_t *s) {
    close(s->fd); /* Also takes it out of the epoll set: it is never dup'ed. */
    s->fd = -1;
    s->state = EMPTY;
    active--;
}

/* Start an exchange in an empty slot; 0 if it could not even begin. */
static int start(slot_t *s, uint32_t index) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        count_error(errno_name(errno));
        return 0;
    }
    s->t0 = now_ns();
    s->received = 0;
    s->last = 0;
    if (connect(fd, (struct sockaddr *)&target, sizeof target) != 0 && errno != EINPROGRESS) {
        count_error(errno_name(errno));
        close(fd);
        return 0;
    }
    /* On loopback the handshake has usually completed by now: sending at
     * once saves a wake-up and an epoll_ctl per exchange. */
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};
    ssize_t sent = send(fd, PAYLOAD, sizeof PAYLOAD - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == (ssize_t)(sizeof PAYLOAD - 1)) {
        s->state = READING;
    } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        s->state = CONNECTING;
        ev.events = EPOLLOUT;
    } else {
        count_error(sent < 0 ? errno_name(errno) : "short_send");
        close(fd);
        return 0;
    }
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        count_error(errno_name(errno));
        close(fd);
        return 0;
    }
    s->fd = fd;
    active++;
    return 1;
}

/* The connection became writable: the connect finished (or failed). */
static int on_connected(slot_t *s, uint32_t index) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
        count_error(errno_name(err));
        return 0;
    }
    ssize_t sent = send(s->fd, PAYLOAD, sizeof PAYLOAD - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent != (ssize_t)(sizeof PAYLOAD - 1)) {
        count_error(sent < 0 ? errno_name(errno) : "short_send");
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};
    epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
    s->state = READING;
    return 1;
}

/*
 * Readable: read what is there.  Returns 1 while the exchange goes on, 0
 * when it has ended (EOF, error or a bad reply), having counted it.
 */
static int on_readable(slot_t *s, uint64_t record_from, uint64_t deadline) {
    char buf[4096];
    for (;;) {
        ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            s->received += (size_t)n;
            s->last = buf[n - 1];
            if (s->received > MAX_REPLY) {
                count_error("reply_too_long");
                return 0;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            count_error(errno_name(errno));
            return 0;
        }
        break; /* EOF: the server closed, the exchange is over. */
    }
    uint64_t end = now_ns();
    if (s->received == 0) {
        count_error("empty_reply");
        return 0;
    }
    if (s->last != '\n') {
        count_error("bad_reply");
        return 0;
    }
    completed++;
    if (end >= record_from && end <= deadline) in_window++;
    if (s->t0 >= record_from && s->t0 < deadline) record_latency(end - s->t0);
    return 0;
}

/* ---- the command line ---- */

static void usage(const char *why) {
    fprintf(stderr,
            "loadgen: %s\n"
            "usage: loadgen PORT [-c CONCURRENCY (1-%d)] [-d SECONDS (0-%g]]"
            " [--warmup SECONDS (0-%g)] [--drain SECONDS (0-%g)]\n",
            why, MAX_CONCURRENCY, MAX_DURATION, MAX_WARMUP, MAX_DRAIN);
    exit(2);
}

static double number(const char *text, const char *what) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(v)) {
        char why[160];
        snprintf(why, sizeof why, "%s must be a number, not '%.40s'", what, text);
        usage(why);
    }
    return v;
}

static void print_cpu(const char *key, cpu_t c) {
    printf("\"%s\": {\"user\": %.6f, \"sys\": %.6f}", key, c.user, c.sys);
}

int main(int argc, char **argv) {
    double port = -1, concurrency = 50, duration = 5, warmup = 0, drain = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--concurrency") == 0) && has_value)
            concurrency = number(argv[++i], "concurrency");
        else if ((strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) && has_value)
            duration = number(argv[++i], "duration");
        else if (strcmp(a, "--warmup") == 0 && has_value)
            warmup = number(argv[++i], "warmup");
        else if (strcmp(a, "--drain") == 0 && has_value)
            drain = number(argv[++i], "drain");
        else if (a[0] != '-' && port < 0)
            port = number(a, "port");
        else
            usage("unknown or incomplete option");
    }
    if (port < 1 || port > 65535 || port != floor(port)) usage("PORT must be 1-65535");
    if (concurrency < 1 || concurrency > MAX_CONCURRENCY || concurrency != floor(concurrency))
        usage("concurrency out of range");
    if (!(duration > 0 && duration <= MAX_DURATION)) usage("duration out of range");
    if (!(warmup >= 0 && warmup <= MAX_WARMUP)) usage("warmup out of range");
    if (!(drain >= 0 && drain <= MAX_DRAIN)) usage("drain out of range");
    int c = (int)concurrency;

    signal(SIGPIPE, SIG_IGN);
    /* Each slot holds one descriptor; 500 slots need more than 1024 fds. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    /* Only loopback is ever a target of this tool. */
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    slots = calloc((size_t)c, sizeof *slots);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (slots == NULL || epfd < 0) {
        perror("loadgen: setting up");
        return 2;
    }
    for (int i = 0; i < c; i++) slots[i].fd = -1;

    uint64_t begin = now_ns();
    uint64_t record_from = begin + (uint64_t)(warmup * 1e9);
    uint64_t deadline = record_from + (uint64_t)(duration * 1e9);
    uint64_t hard_stop = deadline + (uint64_t)(drain * 1e9);
    cpu_t cpu_begin = cpu_now(), window_begin = cpu_begin, window_end = cpu_begin;
    int window_started = 0, running = 1;
    uint64_t last_refill = 0;
    struct epoll_event events[EVENTS];

    if (warmup == 0) window_started = 1;
    for (int i = 0; i < c; i++) start(&slots[i], (uint32_t)i);

    while (active > 0 || running) {
        uint64_t now = now_ns();
        if (!window_started && now >= record_from) {
            window_begin = cpu_now();
            window_started = 1;
        }
        if (running && now >= deadline) {
            window_end = cpu_now();
            running = 0;
        }
        if (!running && now >= hard_stop) break;
        /* Slots whose connect failed outright: refill them, at most once a
         * millisecond so a dead server is not hammered in a tight loop. */
        if (running && active < c && now - last_refill >= 1000000ULL) {
            last_refill = now;
            for (int i = 0; i < c; i++)
                if (slots[i].state == EMPTY) start(&slots[i], (uint32_t)i);
        }
        uint64_t next = !window_started ? record_from : running ? deadline : hard_stop;
        int timeout_ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
        if (timeout_ms > 100) timeout_ms = 100;
        if (running && active < c && timeout_ms > 1) timeout_ms = 1;
        int n = epoll_wait(epfd, events, EVENTS, timeout_ms);
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            return 2;
        }
        for (int k = 0; k < n; k++) {
            uint32_t index = events[k].data.u32;
            slot_t *s = &slots[index];
            if (s->state == EMPTY) continue;
            int going_on = s->state == CONNECTING ? on_connected(s, index)
                                                  : on_readable(s, record_from, deadline);
            if (!going_on) {
                finish(s);
                if (running) start(s, index);
            }
        }
    }
    uint64_t unfinished = 0;
    for (int i = 0; i < c; i++) {
        if (slots[i].state != EMPTY) {
            unfinished++;
            close(slots[i].fd);
        }
    }
    cpu_t cpu_end = cpu_now();
    double elapsed = (double)(now_ns() - begin) / 1e9;
    cpu_t total = {cpu_end.user - cpu_begin.user, cpu_end.sys - cpu_begin.sys};
    cpu_t window = {window_end.user - window_begin.user, window_end.sys - window_begin.sys};

    printf("{\"generator\": \"c\", \"concurrency\": %d, \"workers\": 1, \"duration_s\": %g,"
           " \"warmup_s\": %g, \"elapsed_s\": %.6f, \"exchanges_per_s\": %.3f,"
           " \"exchanges_in_window\": %llu, \"exchanges_total\": %llu, \"errors\": %llu,"
           " \"error_kinds\": {",
           c, duration, warmup, elapsed, (double)in_window / duration,
           (unsigned long long)in_window, (unsigned long long)completed,
           (unsigned long long)errors_total);
    for (int i = 0, first = 1; i < ERROR_KINDS && error_names[i] != NULL; i++, first = 0)
        printf("%s\"%s\": %llu", first ? "" : ", ", error_names[i],
               (unsigned long long)error_counts[i]);
    printf("}, \"unfinished\": %llu, \"latency_ms\": {\"p50\": %.6f, \"p90\": %.6f,"
           " \"p99\": %.6f, \"max\": %.6f, \"samples\": %llu}, ",
           (unsigned long long)unfinished, percentile_ms(0.50), percentile_ms(0.90),
           percentile_ms(0.99), (double)latency_max_ns / 1e6, (unsigned long long)samples);
    print_cpu("loadgen_cpu_s", total);
    printf(", ");
    print_cpu("loadgen_window_cpu_s", window);
    printf(", \"loadgen_core_use\": %.6f}\n", (window.user + window.sys) / duration);
    return 0;
}
