/*
 * The publishing load of the `publish` scenarios (bench/publisher.ts compiles and runs it): N
 * keep-alive HTTP/1.1 connections to HOST:PORT, each with DEPTH requests in flight (1: no
 * pipelining, each connection waits for its answer before it sends the next request), for SECONDS.
 * A C client costs the shared 2 cores little (a few µs per request), so the figure measures the
 * server, not the load generator.
 *
 *   publisher HOST PORT CONNECTIONS DEPTH SECONDS HEAD BEFORE MIDDLE AFTER
 *
 * Each request is HEAD + "Content-Length: n\r\n\r\n" + body, the body being
 * BEFORE <sequence number> MIDDLE <CLOCK_REALTIME ms, 3 decimals> AFTER (HEAD ends with "\r\n";
 * the sequence starts at 1). An answer is complete after its head and Content-Length bytes (or its
 * chunked body's last chunk); 2xx counts as ok, anything else (or a connection closed with
 * requests in flight) as failed.
 * Prints one line: `result {"sent":..,"ok":..,"failed":..,"elapsed_ms":..,"p50_ms":..,"p99_ms":..,
 * "user_ms":..,"sys_ms":..}` (answer times: from sending a request to the end of its answer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 1024
#define MAX_DEPTH 64
#define BUF 65536
#define MAX_TIMES 4000000

struct conn {
  int fd;
  int in_flight;
  double sent_at[MAX_DEPTH]; /* a ring: answers come in order */
  int head;
  size_t len;
  char buf[BUF];
};

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static const char *head_s, *before_s, *middle_s, *after_s;
static long long seq = 0;
static float *times;
static long long n_times = 0;

/* Writes DEPTH - in_flight requests (one write). Returns -1 on error. */
static int fill(struct conn *c, int depth) {
  static char out[MAX_DEPTH * 8192];
  size_t at = 0;
  while (c->in_flight < depth) {
    char body[4096];
    int blen = snprintf(body, sizeof body, "%s%lld%s%.3f%s", before_s, ++seq, middle_s,
                        now_ms(CLOCK_REALTIME), after_s);
    at += snprintf(out + at, sizeof out - at, "%sContent-Length: %d\r\n\r\n%s", head_s, blen, body);
    c->sent_at[(c->head + c->in_flight) % MAX_DEPTH] = now_ms(CLOCK_MONOTONIC);
    c->in_flight++;
  }
  size_t done = 0;
  while (done < at) {
    ssize_t n = write(c->fd, out + done, at - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) continue; /* loopback, small: spin */
      return -1;
    }
    done += n;
  }
  return 0;
}

/* Length of the complete answer at the start of buf, or 0 if more bytes are needed; *status set. */
static size_t answer_length(const char *buf, size_t len, int *status) {
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (end == NULL) return 0;
  size_t head = end - buf + 4;
  *status = len > 12 ? atoi(buf + 9) : 0;
  for (const char *p = buf; p < end; p++) {
    if (*p != '\n') continue;
    if (strncasecmp(p + 1, "content-length:", 15) == 0) {
      size_t total = head + strtoul(p + 16, NULL, 10);
      return len >= total ? total : 0;
    }
    if (strncasecmp(p + 1, "transfer-encoding:", 18) == 0) {
      const char *last = memmem(buf + head - 2, len - head + 2, "\r\n0\r\n\r\n", 7);
      return last == NULL ? 0 : (size_t)(last - buf) + 7;
    }
  }
  return head;
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: publisher HOST PORT CONNECTIONS DEPTH SECONDS HEAD BEFORE MIDDLE AFTER\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), nconn = atoi(argv[3]), depth = atoi(argv[4]);
  double seconds = atof(argv[5]);
  head_s = argv[6];
  before_s = argv[7];
  middle_s = argv[8];
  after_s = argv[9];
  if (nconn < 1 || nconn > MAX_CONN || depth < 1 || depth > MAX_DEPTH) {
    fprintf(stderr, "publisher: CONNECTIONS 1..%d, DEPTH 1..%d\n", MAX_CONN, MAX_DEPTH);
    return 2;
  }
  times = malloc(sizeof(float) * MAX_TIMES);
  struct conn *conns = calloc(nconn, sizeof(struct conn));
  int ep = epoll_create1(0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &addr.sin_addr);
  for (int i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      perror("publisher: connect");
      return 1;
    }
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  long long ok = 0, failed = 0;
  int open = nconn;
  double started = now_ms(CLOCK_MONOTONIC), last_answer = started;
  double stop_at = started + seconds * 1000;
  for (int i = 0; i < nconn; i++)
    if (fill(&conns[i], depth) != 0) {
      perror("publisher: write");
      return 1;
    }
  struct epoll_event events[256];
  while (open > 0) {
    int n = epoll_wait(ep, events, 256, 1000);
    if (now_ms(CLOCK_MONOTONIC) > stop_at + 30000) { /* answers that never come: failed */
      for (int i = 0; i < nconn; i++)
        if (conns[i].fd >= 0) failed += conns[i].in_flight;
      break;
    }
    for (int e = 0; e < n; e++) {
      struct conn *c = &conns[events[e].data.u32];
      if (c->fd < 0) continue;
      ssize_t r = read(c->fd, c->buf + c->len, BUF - c->len);
      if (r <= 0) {
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        failed += c->in_flight; /* closed with requests in flight */
        close(c->fd);
        c->fd = -1;
        open--;
        continue;
      }
      c->len += r;
      int status;
      size_t used = 0, alen;
      double t = now_ms(CLOCK_MONOTONIC);
      while (c->in_flight > 0 && (alen = answer_length(c->buf + used, c->len - used, &status)) > 0) {
        used += alen;
        if (status >= 200 && status <= 299) ok++;
        else failed++;
        if (n_times < MAX_TIMES) times[n_times++] = (float)(t - c->sent_at[c->head]);
        c->head = (c->head + 1) % MAX_DEPTH;
        c->in_flight--;
        last_answer = t;
      }
      memmove(c->buf, c->buf + used, c->len - used);
      c->len -= used;
      if (c->len == BUF) {
        fprintf(stderr, "publisher: an answer over %d bytes\n", BUF);
        return 1;
      }
      if (t < stop_at) {
        if (c->in_flight < depth && fill(c, depth) != 0) {
          failed += c->in_flight;
          close(c->fd);
          c->fd = -1;
          open--;
        }
      } else if (c->in_flight == 0) {
        close(c->fd);
        c->fd = -1;
        open--;
      }
    }
  }
  qsort(times, n_times, sizeof(float), cmp);
  double p50 = n_times > 0 ? times[n_times / 2] : 0;
  double p99 = n_times > 0 ? times[(long long)(n_times * 0.99)] : 0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("result {\"sent\":%lld,\"ok\":%lld,\"failed\":%lld,\"elapsed_ms\":%.1f,\"p50_ms\":%.3f,"
         "\"p99_ms\":%.3f,\"user_ms\":%.1f,\"sys_ms\":%.1f}\n",
         seq, ok, failed, last_answer - started, p50, p99,
         ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
         ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
  return 0;
}
