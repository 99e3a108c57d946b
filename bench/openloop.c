/*
 * openloop: a fixed-rate (open-loop) HTTP load generator for billy's charge endpoint.
 *
 * wrk is closed-loop: each connection sends its next request only after the previous answer, so
 * a slow server is offered less load and its queueing delay never shows in the latency figures
 * ("coordinated omission"). Debian has no wrk2, hence this small tool: request i is *due* at
 * t0 + i/rate whatever happened before, and its latency is measured from that due time, not from
 * when it was actually written (like wrk2). If every connection is busy, due requests wait in a
 * queue and that wait is part of their latency.
 *
 * One thread, epoll, HTTP/1.1 keep-alive, up to -c connections opened on demand.
 *
 *   openloop -p PORT -k KEY -r 300 -d 10 -c 64 -n 10000 [-C c1] [-x runid] [-w workspace]
 *
 * -n N: each request charges client c<random 1..N>; -C NAME: always this client (hot wallet).
 * Body: {"charge_id": "<runid>-<i>", "product": "bench", "amount": "1.00"}; charge ids are unique.
 * Prints key=value lines (see the end of main); exits 0 when the run completed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CLOSED, CONNECTING, WRITING, READING, IDLE };

typedef struct {
    int fd, state, attempt;
    long req;            /* index of the request in flight, -1 if none */
    int64_t sent_at;     /* when its first byte was written */
    char *wbuf;
    size_t wlen, woff;
    char *rbuf;
    size_t rlen, rcap;
} conn_t;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xorshift(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(int64_t *v, long n, double p) {
    if (n == 0) return 0.0;
    long i = (long)(p / 100.0 * (double)n);
    if (i >= n) i = n - 1;
    return (double)v[i] / 1e6; /* ms */
}

/* options */
static int port = 8000, conns_max = 64, n_clients = 10000;
static double rate = 300, duration = 10;
static const char *key = "", *hot = NULL, *runid = "ol", *workspace = "c2b";

static struct sockaddr_in addr;
static int ep;
static conn_t *conns;
static int64_t t0, interval_ns;
static long total, next_due_dispatch = 0; /* requests [next_due_dispatch, due) are waiting */
static long *retry_q;                    /* requests to send again after a dropped keep-alive */
static long retry_head = 0, retry_tail = 0;
static int64_t *lat, *svc;               /* corrected latency (from due time), service time */
static long n_lat = 0, n_201 = 0, n_other = 0, n_err = 0, n_reconnect = 0, n_done = 0, max_queue = 0;
static long status_counts[600];

static void set_events(conn_t *c, uint32_t ev) {
    struct epoll_event e = {.events = ev, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0) perror("epoll_ctl mod");
}

static void close_conn(conn_t *c) {
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = CLOSED;
    c->rlen = 0;
}

static int open_conn(conn_t *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        close_conn(c);
        return -1;
    }
    c->state = CONNECTING;
    return 0;
}

static void build_request(conn_t *c, long i) {
    char client[160], body[512];
    if (hot)
        snprintf(client, sizeof client, "%s", hot);
    else
        snprintf(client, sizeof client, "c%lu", (unsigned long)(xorshift() % (uint64_t)n_clients) + 1);
    int blen = snprintf(body, sizeof body,
                        "{\"charge_id\": \"%s-%ld\", \"product\": \"bench\", \"amount\": \"1.00\"}", runid, i);
    c->wlen = (size_t)snprintf(c->wbuf, 2048,
                               "POST /api/v1/workspaces/%s/clients/%s/charges HTTP/1.1\r\n"
                               "Host: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                               workspace, client, port, key, blen, body);
    c->woff = 0;
}

static void start_request(conn_t *c, long i) {
    c->req = i;
    c->sent_at = 0;
    build_request(c, i);
    if (c->state == IDLE) {
        c->state = WRITING;
        set_events(c, EPOLLOUT);
    } else if (c->state == CLOSED) {
        if (open_conn(c) < 0) {
            n_err++;
            c->req = -1;
        }
    }
}

/* A request failed on a reused connection before any answer: send it again (same charge id). */
static void requeue(conn_t *c) {
    if (c->req >= 0 && c->attempt < 3) {
        retry_q[retry_tail++ % (total + 1)] = c->req;
        n_reconnect++;
    } else if (c->req >= 0) {
        n_err++;
        n_done++;
    }
    c->req = -1;
    close_conn(c);
}

static void finish(conn_t *c, int status) {
    int64_t t = now_ns();
    int64_t due = t0 + c->req * interval_ns;
    lat[n_lat] = t - due;
    svc[n_lat] = t - c->sent_at;
    n_lat++;
    n_done++;
    if (status == 201)
        n_201++;
    else
        n_other++;
    if (status > 0 && status < 600) status_counts[status]++;
    c->req = -1;
    c->attempt = 0;
}

/* Whether the header line starting at h (ending at CRLF) contains word, case-insensitively. */
static int header_has(const char *h, const char *word) {
    const char *eol = strstr(h, "\r\n"), *w = strcasestr(h, word);
    return w && eol && w < eol;
}

/* Returns 1 when a whole response is in rbuf (and consumes it), 0 if more is needed. */
static int parse_response(conn_t *c, int *status, int *keep) {
    c->rbuf[c->rlen] = 0;
    char *end = strstr(c->rbuf, "\r\n\r\n");
    if (!end) return 0;
    size_t hdr = (size_t)(end - c->rbuf) + 4;
    *status = atoi(c->rbuf + 9);
    *keep = 1;
    long clen = -1;
    int chunked = 0;
    for (char *line = strstr(c->rbuf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (!strncasecmp(h, "content-length:", 15)) clen = atol(h + 15);
        else if (!strncasecmp(h, "connection:", 11) && header_has(h, "close"))
            *keep = 0;
        else if (!strncasecmp(h, "transfer-encoding:", 18) && header_has(h, "chunked"))
            chunked = 1;
    }
    size_t need;
    if (clen >= 0) {
        need = hdr + (size_t)clen;
        if (c->rlen < need) return 0;
    } else if (chunked) {
        char *z = strstr(c->rbuf + hdr - 2, "\r\n0\r\n\r\n");
        if (!z) return 0;
        need = (size_t)(z - c->rbuf) + 7;
    } else {
        *keep = 0; /* body until close: not expected from gunicorn */
        return 0;
    }
    memmove(c->rbuf, c->rbuf + need, c->rlen - need);
    c->rlen -= need;
    return 1;
}

static void on_event(conn_t *c, uint32_t ev) {
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & (EPOLLERR | EPOLLHUP))) {
            c->attempt++;
            requeue(c);
            return;
        }
        c->state = WRITING;
    }
    if (c->state == WRITING) {
        if (c->sent_at == 0) c->sent_at = now_ns();
        ssize_t w = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (w < 0) {
            if (errno == EAGAIN) return;
            c->attempt++;
            requeue(c);
            return;
        }
        c->woff += (size_t)w;
        if (c->woff == c->wlen) {
            c->state = READING;
            set_events(c, EPOLLIN);
        }
        return;
    }
    if (c->state == READING || c->state == IDLE) {
        if (c->rcap - c->rlen < 4096) {
            c->rcap *= 2;
            c->rbuf = realloc(c->rbuf, c->rcap + 1);
        }
        ssize_t r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (r < 0 && errno == EAGAIN) return;
        if (r <= 0) { /* closed by the server */
            if (c->state == READING) {
                c->attempt++;
                requeue(c);
            } else
                close_conn(c);
            return;
        }
        c->rlen += (size_t)r;
        int status, keep;
        if (c->state == READING && parse_response(c, &status, &keep)) {
            finish(c, status);
            if (keep) {
                c->state = IDLE;
                set_events(c, EPOLLIN);
            } else
                close_conn(c);
        }
    }
}

static conn_t *free_conn(void) {
    conn_t *closed = NULL;
    for (int i = 0; i < conns_max; i++) {
        if (conns[i].req >= 0) continue;
        if (conns[i].state == IDLE) return &conns[i];
        if (conns[i].state == CLOSED && !closed) closed = &conns[i];
    }
    return closed;
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "p:k:r:d:c:n:C:x:w:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'k': key = optarg; break;
        case 'r': rate = atof(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'c': conns_max = atoi(optarg); break;
        case 'n': n_clients = atoi(optarg); break;
        case 'C': hot = optarg; break;
        case 'x': runid = optarg; break;
        case 'w': workspace = optarg; break;
        default:
            fprintf(stderr, "usage: openloop -p PORT -k KEY -r RATE -d SECONDS -c CONNS [-n CLIENTS | -C CLIENT] [-x RUNID]\n");
            return 2;
        }
    }
    rng ^= (uint64_t)getpid() * 2654435761ULL;
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    total = (long)(rate * duration);
    interval_ns = (int64_t)(1e9 / rate);
    lat = calloc((size_t)total + 1, sizeof *lat);
    svc = calloc((size_t)total + 1, sizeof *svc);
    retry_q = calloc((size_t)total + 1, sizeof *retry_q);
    conns = calloc((size_t)conns_max, sizeof *conns);
    for (int i = 0; i < conns_max; i++) {
        conns[i].fd = -1;
        conns[i].req = -1;
        conns[i].wbuf = malloc(2048);
        conns[i].rcap = 16384;
        conns[i].rbuf = malloc(conns[i].rcap + 1);
    }
    ep = epoll_create1(0);
    struct epoll_event evs[256];
    t0 = now_ns();
    int64_t deadline = t0 + (int64_t)((duration + 30) * 1e9); /* drain at most 30 s after the last due time */
    while (n_done < total && now_ns() < deadline) {
        int64_t t = now_ns();
        long due = (t - t0) / interval_ns + 1;
        if (due > total) due = total;
        /* dispatch retries first, then due requests, while a connection is free */
        for (;;) {
            int have_retry = retry_head < retry_tail;
            if (!have_retry && next_due_dispatch >= due) break;
            conn_t *c = free_conn();
            if (!c) break;
            if (have_retry) {
                long i = retry_q[retry_head++ % (total + 1)];
                c->attempt++;
                start_request(c, i);
            } else {
                c->attempt = 0;
                start_request(c, next_due_dispatch++);
            }
        }
        if (due - next_due_dispatch > max_queue) max_queue = due - next_due_dispatch;
        int timeout_ms = 50;
        if (next_due_dispatch < total && due - next_due_dispatch == 0) {
            int64_t next = t0 + due * interval_ns - now_ns();
            timeout_ms = next <= 0 ? 0 : (int)(next / 1000000) + 1;
            if (timeout_ms > 50) timeout_ms = 50;
        } else if (due - next_due_dispatch > 0)
            timeout_ms = 50; /* queue waits for a connection: woken by its events */
        int n = epoll_wait(ep, evs, 256, timeout_ms);
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    }
    double elapsed = (double)(now_ns() - t0) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    qsort(lat, (size_t)n_lat, sizeof *lat, cmp64);
    qsort(svc, (size_t)n_lat, sizeof *svc, cmp64);
    printf("offered_rate=%.1f\nduration_s=%.3f\nscheduled=%ld\ncompleted=%ld\nstatus_201=%ld\nnon_201=%ld\n"
           "errors=%ld\nreconnects=%ld\nmax_queue=%ld\n",
           rate, elapsed, total, n_lat, n_201, n_other, n_err + (total - n_done), n_reconnect, max_queue);
    printf("p50_ms=%.2f\np90_ms=%.2f\np99_ms=%.2f\np999_ms=%.2f\nmax_ms=%.2f\n", pct(lat, n_lat, 50),
           pct(lat, n_lat, 90), pct(lat, n_lat, 99), pct(lat, n_lat, 99.9), n_lat ? lat[n_lat - 1] / 1e6 : 0.0);
    printf("service_p50_ms=%.2f\nservice_p99_ms=%.2f\ncpu_s=%.3f\n", pct(svc, n_lat, 50), pct(svc, n_lat, 99), cpu);
    for (int s = 0; s < 600; s++)
        if (status_counts[s] && s != 201) printf("status_%d=%ld\n", s, status_counts[s]);
    return n_done < total ? 1 : 0;
}
