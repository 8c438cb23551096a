/*
 * The floor's writer: what the kernel allows for a broadcast to N loopback TCP subscribers, with no
 * Herald (and no Node) in the way. Used by bench/floor.ts; see docs/performance.md.
 *
 *   writer N P EVENTS RATE SIZE
 *
 * Listens on 127.0.0.1 (an ephemeral port, printed as "port <p>" on stdout), accepts N connections
 * (TCP_NODELAY, like Herald's sockets), then waits for a line on stdin (the driver sends it once
 * the reader is ready). It then forks P writer processes, each owning N/P of the sockets, and
 * publishes EVENTS events at RATE per second: at each due time every process write()s the same
 * ~SIZE-byte SSE event (built once per broadcast) to each of its sockets, one write per socket.
 * The event carries its due time on CLOCK_MONOTONIC in nanoseconds (`"t":`), so the reader on the
 * same machine computes publish->receive latency. The due time is the publish moment: a process
 * that wakes late adds that delay to the latency.
 *
 * Prints one line: `result {"broadcast_ms":[...],"writes":W,"failed":F,"user_ms":U,"sys_ms":S}`,
 * where broadcast_ms[i] is the time from the due time of event i to the end of the last process's
 * write loop for it, and user/sys are the CPU of the P processes over their write loops.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 1000
#define MAX_PROCS 64

/* What each writer process reports, in memory shared with the parent. */
struct report {
  int64_t start_ns[MAX_EVENTS];
  int64_t end_ns[MAX_EVENTS];
  long writes;
  long failed;
  double user_ms;
  double sys_ms;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns) {
  struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static double ms_of(struct timeval tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* `id: <seq>\ndata: {"s":<seq>,"t":<ns>,"p":"xxx..."}\n\n`, padded to about `size` bytes. */
static int build_event(char *buf, int cap, int seq, int64_t t, int size) {
  int head = snprintf(buf, cap, "id: %d\ndata: {\"s\":%d,\"t\":%lld,\"p\":\"", seq, seq, (long long)t);
  int pad = size - head - 4;
  if (pad < 0) pad = 0;
  if (head + pad + 4 >= cap) pad = cap - head - 5;
  memset(buf + head, 'x', pad);
  memcpy(buf + head + pad, "\"}\n\n", 4);
  return head + pad + 4;
}

static void write_loop(const int *fds, int n, int events, double rate, int size, int64_t t0,
                       struct report *out) {
  char event[4096];
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  for (int i = 0; i < events; i++) {
    int64_t due = t0 + (int64_t)(i * 1e9 / rate);
    sleep_until(due);
    int len = build_event(event, sizeof event, i + 1, due, size);
    out->start_ns[i] = now_ns();
    for (int k = 0; k < n; k++) {
      if (write(fds[k], event, len) == len) out->writes++;
      else out->failed++;
    }
    out->end_ns[i] = now_ns();
  }
  getrusage(RUSAGE_SELF, &after);
  out->user_ms = ms_of(after.ru_utime) - ms_of(before.ru_utime);
  out->sys_ms = ms_of(after.ru_stime) - ms_of(before.ru_stime);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: writer N PROCESSES EVENTS RATE SIZE\n");
    return 2;
  }
  int n = atoi(argv[1]), procs = atoi(argv[2]), events = atoi(argv[3]);
  double rate = atof(argv[4]);
  int size = atoi(argv[5]);
  if (n < 1 || procs < 1 || procs > MAX_PROCS || events < 1 || events > MAX_EVENTS || rate <= 0) {
    fprintf(stderr, "writer: bad arguments (1 <= PROCESSES <= %d, 1 <= EVENTS <= %d)\n", MAX_PROCS,
            MAX_EVENTS);
    return 2;
  }
  raise_nofile();
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 65535) != 0) {
    perror("writer: bind/listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  int *fds = calloc(n, sizeof(int));
  for (int i = 0; i < n; i++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      perror("writer: accept");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fds[i] = fd;
  }
  close(lfd);

  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) return 1; /* the driver's "go" */

  struct report *reports =
      mmap(NULL, sizeof(struct report) * procs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  memset(reports, 0, sizeof(struct report) * procs);
  int64_t t0 = now_ns() + 100000000; /* 100 ms: time to fork */
  for (int p = 0; p < procs; p++) {
    int from = (int)((long)n * p / procs), to = (int)((long)n * (p + 1) / procs);
    pid_t pid = fork();
    if (pid == 0) {
      write_loop(fds + from, to - from, events, rate, size, t0, &reports[p]);
      _exit(0);
    }
  }
  while (wait(NULL) > 0) {
  }

  long writes = 0, failed = 0;
  double user = 0, sys = 0;
  printf("result {\"broadcast_ms\":[");
  for (int i = 0; i < events; i++) {
    int64_t due = t0 + (int64_t)(i * 1e9 / rate), end = 0;
    for (int p = 0; p < procs; p++)
      if (reports[p].end_ns[i] > end) end = reports[p].end_ns[i];
    printf("%s%.3f", i ? "," : "", (end - due) / 1e6);
  }
  printf("],\"loop_ms\":[");
  for (int i = 0; i < events; i++) {
    int64_t start = INT64_MAX, end = 0;
    for (int p = 0; p < procs; p++) {
      if (reports[p].start_ns[i] < start) start = reports[p].start_ns[i];
      if (reports[p].end_ns[i] > end) end = reports[p].end_ns[i];
    }
    printf("%s%.3f", i ? "," : "", (end - start) / 1e6);
  }
  for (int p = 0; p < procs; p++) {
    writes += reports[p].writes;
    failed += reports[p].failed;
    user += reports[p].user_ms;
    sys += reports[p].sys_ms;
  }
  printf("],\"writes\":%ld,\"failed\":%ld,\"user_ms\":%.1f,\"sys_ms\":%.1f}\n", writes, failed, user, sys);
  fflush(stdout);
  for (int i = 0; i < n; i++) close(fds[i]);
  return 0;
}
