/*
 * The floor's reader: N loopback TCP subscribers in one process, read with epoll; the cheapest
 * client this machine allows. Used by bench/floor.ts; see docs/performance.md.
 *
 *   reader HOST PORT N EVENTS PER_ADDRESS TIMEOUT_S [PATH]
 *
 * Connects N sockets to HOST:PORT from source addresses 127.0.0.2, 127.0.0.3, ... (PER_ADDRESS
 * sockets each, so no address runs out of ephemeral ports), prints "connected" on stdout, then
 * reads every socket with epoll (level-triggered) until each has received EVENTS events and been
 * closed by the writer, or TIMEOUT_S seconds passed. Each event is `id: ...\ndata: {"s":<seq>,
 * "t":<ns>,...}\n\n`: `s` counts up by 1 per socket (a gap, repeat or reorder is counted), `t` is
 * the writer's CLOCK_MONOTONIC publish time, so now - t is the publish->receive latency (same
 * machine, same clock), kept in a 10 µs histogram.
 *
 * With PATH (the light scenario, measuring Herald with this same reader): each socket sends
 * `GET PATH HTTP/1.1` and "connected" is printed once every socket has received its first bytes
 * (the stream is open); `t` is then the publisher's wall clock in milliseconds (`"t":1764...123.456`,
 * bench/harness.ts `clock`), compared with CLOCK_REALTIME; the reader stops once every socket has
 * received EVENTS events (Herald does not close the streams).
 *
 * Prints one line: `result {"received":R,"lost":L,"disorder":D,"p50_ms":..,"p99_ms":..,
 * "max_ms":..,"last_ms":[...],"user_ms":U,"sys_ms":S}`: last_ms[i] is the latency of event i+1's
 * last delivery; user/sys are this process's CPU from "connected" to the last delivery.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define BUF 2048            /* per socket: holds an incomplete event until the rest arrives */
#define BUCKET_NS 10000     /* 10 µs histogram buckets */
#define BUCKETS 1000000     /* up to 10 s */

struct conn {
  int len;      /* bytes held in buf */
  long next;    /* the seq expected next (0: the first event sets it) */
  int count;    /* events received */
  int open;
  char buf[BUF];
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms_of(struct timeval tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

static uint32_t hist[BUCKETS];
static long received, disorder;
static int64_t *last_ns; /* per event: latency of its last delivery */
static int events;
static int http_mode; /* PATH given: Herald (wall-clock ms stamps, streams not closed) */

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double percentile(double p) {
  long target = (long)(received * p + 0.999999), seen = 0;
  if (received == 0) return -1;
  for (int i = 0; i < BUCKETS; i++) {
    seen += hist[i];
    if (seen >= target) return (i + 1) * (BUCKET_NS / 1e6);
  }
  return BUCKETS * (BUCKET_NS / 1e6);
}

/* Parses the complete events in c->buf, keeps the incomplete tail. */
static void parse(struct conn *c, int64_t now) {
  char *p = c->buf, *end = c->buf + c->len;
  for (;;) {
    char *stop = memmem(p, end - p, "\n\n", 2);
    if (stop == NULL) break;
    char *s = memmem(p, stop - p, "{\"s\":", 5);
    char *t = s == NULL ? NULL : memmem(s, stop - s, "\"t\":", 4);
    if (s != NULL && t != NULL) {
      long seq = strtol(s + 5, NULL, 10);
      int64_t stamp = http_mode ? (int64_t)(strtod(t + 4, NULL) * 1e6) : strtoll(t + 4, NULL, 10);
      if (c->next != 0 && seq != c->next) disorder++;
      c->next = seq + 1;
      int index = c->count++; /* this socket's index-th event: the index-th broadcast */
      received++;
      int64_t lat = now - stamp;
      long b = lat < 0 ? 0 : lat / BUCKET_NS;
      if (b >= BUCKETS) b = BUCKETS - 1;
      hist[b]++;
      if (index < events && lat > last_ns[index]) last_ns[index] = lat;
    }
    p = stop + 2;
  }
  c->len = (int)(end - p);
  memmove(c->buf, p, c->len);
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: reader HOST PORT N EVENTS PER_ADDRESS TIMEOUT_S [PATH]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]), per = atoi(argv[5]);
  events = atoi(argv[4]);
  double timeout_s = atof(argv[6]);
  http_mode = argc == 8;
  char request[512];
  int request_len = http_mode ? snprintf(request, sizeof request,
                                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n",
                                         argv[7], host, port)
                              : 0;
  if (n < 1 || events < 1 || per < 1) {
    fprintf(stderr, "reader: N, EVENTS and PER_ADDRESS must be positive\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rlim_t)n + 16 > rl.rlim_cur) {
    fprintf(stderr, "reader: %d sockets need more than the open-file limit %ld; split them over readers\n", n,
            (long)rl.rlim_cur);
    return 2;
  }
  last_ns = calloc(events, sizeof(int64_t));
  long maxfd = (long)rl.rlim_cur;
  struct conn **conns = calloc(maxfd, sizeof(struct conn *));

  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &to.sin_addr);
  int ep = epoll_create1(0);
  int one = 1;
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char src[32];
    snprintf(src, sizeof src, "127.0.0.%d", 2 + i / per);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, src, &from.sin_addr);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      fprintf(stderr, "reader: connection %d from %s failed: %s\n", i, src, strerror(errno));
      return 1;
    }
    if (http_mode && write(fd, request, request_len) != request_len) {
      fprintf(stderr, "reader: request %d failed: %s\n", i, strerror(errno));
      return 1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[fd] = calloc(1, sizeof(struct conn));
    conns[fd]->next = http_mode ? 0 : 1;
    conns[fd]->open = 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  if (http_mode) {
    /* every stream open (its answer head and first comment read) before "connected" */
    int opened = 0;
    int64_t open_deadline = now_ns() + (int64_t)(timeout_s * 1e9);
    struct epoll_event ready[1024];
    while (opened < n && now_ns() < open_deadline) {
      int k = epoll_wait(ep, ready, 1024, 200);
      for (int j = 0; j < k; j++) {
        struct conn *c = conns[ready[j].data.fd];
        char skip[1024];
        ssize_t got = read(ready[j].data.fd, skip, sizeof skip);
        if (got > 0 && c->count == 0) {
          c->count = -1; /* marks "opened" until the measurement starts */
          opened++;
        } else if (got == 0) {
          fprintf(stderr, "reader: a stream was closed before it opened\n");
          return 1;
        }
      }
    }
    if (opened < n) {
      fprintf(stderr, "reader: only %d of %d streams opened\n", opened, n);
      return 1;
    }
    for (long fd = 0; fd < maxfd; fd++)
      if (conns[fd] != NULL) conns[fd]->count = 0;
  }
  printf("connected\n");
  fflush(stdout);

  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  after = before;
  long expected = (long)n * events;
  int live = n;
  int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
  struct epoll_event ready[1024];
  while (live > 0 && now_ns() < deadline && !(http_mode && received >= expected)) {
    int k = epoll_wait(ep, ready, 1024, 200);
    for (int j = 0; j < k; j++) {
      int fd = ready[j].data.fd;
      struct conn *c = conns[fd];
      ssize_t got = read(fd, c->buf + c->len, BUF - c->len);
      if (got > 0) {
        c->len += (int)got;
        parse(c, http_mode ? wall_ns() : now_ns());
        if (c->len == BUF) c->len = 0; /* not an event stream: drop rather than stall */
        if (received == expected) getrusage(RUSAGE_SELF, &after);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        c->open = 0;
        live--;
      }
    }
  }
  if (received != expected) getrusage(RUSAGE_SELF, &after);

  long lost = 0;
  for (long fd = 0; fd < maxfd; fd++)
    if (conns[fd] != NULL && conns[fd]->count < events) lost += events - conns[fd]->count;
  printf("result {\"received\":%ld,\"lost\":%ld,\"disorder\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"last_ms\":[",
         received, lost, disorder, percentile(0.5), percentile(0.99), percentile(1.0));
  for (int i = 0; i < events; i++) printf("%s%.3f", i ? "," : "", last_ns[i] / 1e6);
  printf("],\"user_ms\":%.1f,\"sys_ms\":%.1f}\n", ms_of(after.ru_utime) - ms_of(before.ru_utime),
         ms_of(after.ru_stime) - ms_of(before.ru_stime));
  return 0;
}
