/*
 * rpb-bench-hello - Hello round trips against a real rpb-broker over a Unix
 * socket, beside a floor measured in the same run: a raw Unix-socket server
 * doing connect + 16-byte request + 16-byte reply + close, no protobuf.
 *
 * Every round trip is a new connection (one Hello per connection,
 * HELLO-001), timed from before connect() to after the reply is decoded.
 * Reports P50/P99 for one client and throughput with 1, 8 and 64 concurrent
 * client processes, the broker's latency again beside 200 idle connections
 * and a slowloris (SEC-005; the unloaded broker is its baseline), then the
 * issue's targets: P50 <= 2x floor P50, P99 <= 500 us, >= 20,000 Hellos/s
 * with 8 clients.
 *
 * usage: rpb-bench-hello [--broker PATH] [--count N] [--duration MS] [--check]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpb/client.h"
#include "rpb/rpb.h"

#define WARMUP 256
#define FLOOR_MSG 16

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- one round trip of each kind; false on any failure ---- */

static uint8_t hello_req[512];
static size_t hello_len;

/* The Hello of this process: peer_pid must be the verified pid (HELLO-015),
 * so every client process encodes its own. */
static void encode_hello(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    h.client_version = rpb_slice_cstr("zccache-cli/1.11.20");
    h.client_keepalive_secs = 60;
    if (rpb_hello_request_encode(&h, 1, hello_req, sizeof hello_req, &hello_len) != RPB_OK)
        abort();
}

static bool hello_once(const char *path)
{
    rpb_buf reply = {0};
    int rc = rpb_client_exchange(path, hello_req, hello_len, rpb_monotonic_ms() + 5000, &reply, NULL);
    bool ok = false;
    if (rc == RPB_OK) {
        uint8_t mem[1024];
        rpb_arena arena;
        rpb_arena_init(&arena, mem, sizeof mem);
        rpb_hello_result res;
        ok = rpb_hello_reply_classify(reply.data, reply.len, &arena, &res) == RPB_OK &&
             res.kind == RPB_HELLO_RESULT_NEGOTIATED;
    }
    rpb_buf_free(&reply);
    return ok;
}

static bool floor_once(const char *path)
{
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 5000);
    if (fd < 0)
        return false;
    uint8_t msg[FLOOR_MSG] = "ping-ping-ping!";
    bool ok = send(fd, msg, sizeof msg, MSG_NOSIGNAL) == (ssize_t)sizeof msg;
    size_t got = 0;
    while (ok && got < sizeof msg) {
        ssize_t n = read(fd, msg + got, sizeof msg - got);
        ok = n > 0;
        got += n > 0 ? (size_t)n : 0;
    }
    close(fd);
    return ok;
}

typedef bool (*trip_fn)(const char *path);

/* ---- the floor server: blocking accept loop, one thread ---- */

static pid_t start_floor(const char *path)
{
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, SOMAXCONN) != 0) {
        perror("rpb-bench-hello: floor server");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c < 0)
                continue;
            uint8_t buf[FLOOR_MSG];
            size_t got = 0;
            while (got < sizeof buf) {
                ssize_t n = read(c, buf + got, sizeof buf - got);
                if (n <= 0)
                    break;
                got += (size_t)n;
            }
            if (got == sizeof buf)
                (void)!send(c, buf, sizeof buf, MSG_NOSIGNAL);
            close(c);
        }
    }
    close(l);
    return pid;
}

/* ---- measurements ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile (upstream's perf guard): index ceil(n*p/100)-1. */
static double percentile_us(const int64_t *sorted, size_t n, unsigned p)
{
    size_t idx = (n * p + 99) / 100;
    return sorted[idx ? idx - 1 : 0] / 1000.0;
}

typedef struct latency {
    double p50, p99;
    size_t failures;
} latency;

static latency measure_latency(trip_fn trip, const char *path, size_t count)
{
    latency l = {0, 0, 0};
    for (int i = 0; i < WARMUP; i++)
        l.failures += !trip(path);
    int64_t *t = malloc(count * sizeof *t);
    for (size_t i = 0; i < count; i++) {
        int64_t t0 = now_ns();
        l.failures += !trip(path);
        t[i] = now_ns() - t0;
    }
    qsort(t, count, sizeof *t, cmp_i64);
    l.p50 = percentile_us(t, count, 50);
    l.p99 = percentile_us(t, count, 99);
    free(t);
    return l;
}

/* clients processes loop round trips for duration_ms; round trips/s. */
static double measure_throughput(trip_fn trip, const char *path, int clients, int duration_ms,
                                 size_t *failures)
{
    int p[2];
    if (pipe(p) != 0)
        return 0;
    int64_t start = rpb_monotonic_ms() + 50; /* common start line */
    pid_t pids[64];
    for (int c = 0; c < clients && c < 64; c++) {
        if ((pids[c] = fork()) == 0) {
            close(p[0]);
            encode_hello();
            while (rpb_monotonic_ms() < start)
                ;
            uint64_t done[2] = {0, 0};
            while (rpb_monotonic_ms() < start + duration_ms) {
                if (trip(path))
                    done[0]++;
                else
                    done[1]++;
            }
            (void)!write(p[1], done, sizeof done);
            _exit(0);
        }
    }
    close(p[1]);
    uint64_t total = 0, done[2];
    *failures = 0;
    while (read(p[0], done, sizeof done) == (ssize_t)sizeof done) {
        total += done[0];
        *failures += done[1];
    }
    close(p[0]);
    for (int c = 0; c < clients && c < 64; c++)
        waitpid(pids[c], NULL, 0);
    return total * 1000.0 / duration_ms;
}

/* The broker's latency while IDLE connections stay silent and one
 * slowloris has sent a byte of its header (SEC-005: neither delays
 * anyone); the connections are closed afterwards. */
#define IDLE 200
static latency measure_beside_idle(const char *path, size_t count)
{
    int fds[IDLE + 1];
    for (int i = 0; i <= IDLE; i++)
        fds[i] = rpb_client_connect(path, rpb_monotonic_ms() + 5000);
    static const uint8_t first = 0x01;
    (void)!send(fds[IDLE], &first, 1, MSG_NOSIGNAL);
    latency l = measure_latency(hello_once, path, count);
    for (int i = 0; i <= IDLE; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return l;
}

/* ---- the broker under test ---- */

static pid_t start_broker(const char *bin, const char *dir, char *sock, size_t cap)
{
    char svc[256], file[300];
    snprintf(svc, sizeof svc, "%s/svc", dir);
    snprintf(sock, cap, "%s/run/broker.sock", dir);
    snprintf(file, sizeof file, "%s/zccache.service", svc);
    mkdir(svc, 0700);
    FILE *f = fopen(file, "w");
    fputs("backend_pipe = /run/zccache.sock\ndaemon_version = 1.11.20\nmin_version = 1.10.0\n"
          "allow = 1.11.20\n",
          f);
    fclose(f);
    /* the broker logs to a pipe until its "listening on" line; then the
     * pipe is closed and its log writes fail quietly (it ignores SIGPIPE),
     * as cheap as /dev/null */
    int p[2];
    if (pipe(p) != 0) {
        perror("rpb-bench-hello: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(bin, bin, "--socket", sock, "--services", svc, "--rate-limit", "0/1000", "--log", "-",
              "--drain-timeout", "0", NULL);
        perror("rpb-bench-hello: exec rpb-broker");
        _exit(127);
    }
    close(p[1]);
    FILE *log = fdopen(p[0], "r");
    char line[1024];
    bool ready = false;
    while (!ready && log != NULL && fgets(line, sizeof line, log) != NULL)
        ready = strstr(line, "listening on") != NULL;
    if (log != NULL)
        fclose(log);
    if (ready)
        return pid;
    fprintf(stderr, "rpb-bench-hello: %s did not start\n", bin);
    kill(pid, SIGKILL);
    exit(1);
}

static void default_broker(const char *argv0, char *out, size_t cap)
{
    const char *slash = strrchr(argv0, '/');
    if (slash == NULL)
        snprintf(out, cap, "rpb-broker");
    else
        snprintf(out, cap, "%.*s/rpb-broker", (int)(slash - argv0), argv0);
}

int main(int argc, char **argv)
{
    char broker_bin[512];
    default_broker(argv[0], broker_bin, sizeof broker_bin);
    size_t count = 10000;
    int duration = 1000;
    bool check = false;
    static const struct option opts[] = {
        {"broker", required_argument, NULL, 'b'}, {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'}, {"check", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': snprintf(broker_bin, sizeof broker_bin, "%s", optarg); break;
        case 'n': count = (size_t)strtoul(optarg, NULL, 10); break;
        case 'd': duration = atoi(optarg); break;
        case 'c': check = true; break;
        default:
            printf("usage: rpb-bench-hello [--broker PATH] [--count N] [--duration MS] [--check]\n"
                   "  --check  exit 1 when a target is missed\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (count < 100 || duration < 100) {
        fprintf(stderr, "rpb-bench-hello: --count >= 100 and --duration >= 100 please\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    encode_hello();

    char dir[] = "/tmp/rpb-bench-XXXXXX", floor_sock[64], broker_sock[300];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(floor_sock, sizeof floor_sock, "%s/floor.sock", dir);
    pid_t floor_pid = start_floor(floor_sock);
    pid_t broker_pid = start_broker(broker_bin, dir, broker_sock, sizeof broker_sock);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("rpb-bench-hello: one new Unix-socket connection per round trip, connect included\n");
    printf("  %ld CPU(s); latency over %zu round trips (+%d warm-up); throughput over %d ms\n\n",
           cpus, count, WARMUP, duration);

    latency lf = measure_latency(floor_once, floor_sock, count);
    latency lb = measure_latency(hello_once, broker_sock, count);
    latency li = measure_beside_idle(broker_sock, count);
    static const int clients[] = {1, 8, 64};
    double tf[3], tb[3];
    size_t failures = lf.failures + lb.failures + li.failures, f;
    for (int i = 0; i < 3; i++) {
        tf[i] = measure_throughput(floor_once, floor_sock, clients[i], duration, &f);
        failures += f;
        tb[i] = measure_throughput(hello_once, broker_sock, clients[i], duration, &f);
        failures += f;
    }

    printf("  %-28s %14s %14s %8s\n", "", "floor (raw)", "rpb-broker", "ratio");
    printf("  %-28s %11.1f us %11.1f us %7.2fx\n", "latency, 1 client, P50", lf.p50, lb.p50,
           lb.p50 / lf.p50);
    printf("  %-28s %11.1f us %11.1f us %7.2fx\n", "latency, 1 client, P99", lf.p99, lb.p99,
           lb.p99 / lf.p99);
    for (int i = 0; i < 3; i++) {
        char label[64];
        snprintf(label, sizeof label, "throughput, %d client%s", clients[i], clients[i] > 1 ? "s" : "");
        printf("  %-28s %12.0f/s %12.0f/s %7.2fx\n", label, tf[i], tb[i], tb[i] / tf[i]);
    }
    printf("  %-28s %14s %11.1f us %7.2fx (vs unloaded P50)\n", "P50 beside 200 idle + slowloris",
           "", li.p50, li.p50 / lb.p50);
    printf("  %-28s %14s %11.1f us %7.2fx (vs unloaded P99)\n", "P99 beside 200 idle + slowloris",
           "", li.p99, li.p99 / lb.p99);
    printf("  failed round trips: %zu\n\n", failures);

    bool t1 = lb.p50 <= 2 * lf.p50, t2 = lb.p99 <= 500.0, t3 = tb[1] >= 20000.0;
    printf("targets:\n");
    printf("  P50 <= 2x floor P50 (%.1f us <= %.1f us)       %s\n", lb.p50, 2 * lf.p50,
           t1 ? "met" : "NOT MET");
    printf("  P99 <= 500 us (%.1f us)                        %s\n", lb.p99, t2 ? "met" : "NOT MET");
    printf("  >= 20000 Hellos/s with 8 clients (%.0f/s)     %s%s\n", tb[1], t3 ? "met" : "NOT MET",
           cpus < 2 ? " (fewer than 2 CPUs)" : "");
    printf("  upstream budget P50 <= 200 us, P99 <= 1000 us  %s\n",
           lb.p50 <= 200 && lb.p99 <= 1000 ? "met" : "NOT MET");

    kill(floor_pid, SIGKILL);
    kill(broker_pid, SIGTERM);
    waitpid(floor_pid, NULL, 0);
    waitpid(broker_pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
    if (failures > 0)
        return 1;
    return check && !(t1 && t2 && t3) ? 1 : 0;
}
