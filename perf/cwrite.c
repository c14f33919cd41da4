/* cwrite: the C floor for timegif's fan-out benchmark.
 *
 * Speaks the endless-GIF protocol as simply as a C program can: epoll, nonblocking sockets; each connection
 * sends a request (read until the blank line, content ignored) and gets the HTTP head + GIF prologue in one
 * write(); then, at every wall-clock second boundary (timerfd on CLOCK_REALTIME, absolute), one write() of
 * the same frame bytes to every socket. The loop is timed (CLOCK_MONOTONIC) along with its CPU
 * (CLOCK_PROCESS_CPUTIME_ID). A write that would block is skipped; one that fails closes the socket.
 *
 *   cwrite PROLOGUE_FILE FRAME_FILE [HOST:PORT]     (default 127.0.0.1:0; CWRITE_PROCS=N: N processes)
 * stdout:
 *   listening on http://HOST:PORT
 *   tick SEC sockets N loop_us X us_per_write Y cpu_us Z lag_us L skipped S closed C
 * SIGTERM/SIGINT: every stream gets the trailer 3B, then the program exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const char HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                           "Cache-Control: no-cache, no-store, no-transform\r\nConnection: close\r\n\r\n";

enum { FREE = 0, READING = 1, STREAMING = 2 };
struct conn {
  uint8_t state;
  uint8_t crlf;  /* bytes of "\r\n\r\n" matched so far */
  int32_t slot;  /* index in streams[] while STREAMING */
};

static struct conn *conns;
static int nconns;
static int *streams; /* fds of STREAMING connections, in no particular order */
static int nstreams;
static int ep;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die(path);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static double mono_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void close_conn(int fd) {
  struct conn *c = &conns[fd];
  if (c->state == STREAMING) { /* swap-remove from streams[] */
    int last = streams[--nstreams];
    streams[c->slot] = last;
    conns[last].slot = c->slot;
  }
  c->state = FREE;
  close(fd); /* also removes it from the epoll set */
}

/* Reads what the client sent; after the request's blank line the stream starts. */
static void on_readable(int fd, const char *intro, size_t intro_len) {
  char buf[4096];
  struct conn *c = &conns[fd];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { close_conn(fd); return; }
    if (n < 0) return;
    if (c->state != READING) continue;
    for (ssize_t i = 0; i < n && c->state == READING; i++) {
      char want = "\r\n\r\n"[c->crlf];
      c->crlf = buf[i] == want ? c->crlf + 1 : (buf[i] == '\r' ? 1 : 0);
      if (c->crlf == 4) {
        if (write(fd, intro, intro_len) != (ssize_t)intro_len) { close_conn(fd); return; }
        c->state = STREAMING;
        c->slot = nstreams;
        streams[nstreams++] = fd;
      }
    }
  }
}

static void accept_all(int lfd, int *accepting) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) { /* pause accepting until the next tick */
        epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
        *accepting = 0;
      }
      return;
    }
    if (fd >= nconns) { close(fd); continue; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[fd] = (struct conn){READING, 0, -1};
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) close(fd);
  }
}

/* Hot loop under test: one write() of the same bytes per socket. */
static void tick(const char *frame, size_t frame_len, time_t sec, double lag_us) {
  static int *dead;
  static int ndead_cap;
  if (ndead_cap < nstreams) { ndead_cap = nconns; dead = realloc(dead, sizeof *dead * (size_t)ndead_cap); }
  int ndead = 0, skipped = 0, n = nstreams;
  double c0 = cpu_us(), t0 = mono_us();
  for (int i = 0; i < n; i++) {
    ssize_t w = write(streams[i], frame, frame_len);
    if (w < 0) {
      if (errno == EAGAIN) skipped++;
      else dead[ndead++] = streams[i];
    }
  }
  double t1 = mono_us(), c1 = cpu_us();
  for (int i = 0; i < ndead; i++) close_conn(dead[i]);
  printf("tick %ld sockets %d loop_us %.0f us_per_write %.2f cpu_us %.0f lag_us %.0f skipped %d closed %d\n", (long)sec, n,
         t1 - t0, n ? (t1 - t0) / n : 0.0, c1 - c0, lag_us, skipped, ndead);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: cwrite PROLOGUE_FILE FRAME_FILE [HOST:PORT]\n");
    return 2;
  }
  size_t plen, flen;
  char *prologue = read_file(argv[1], &plen);
  char *frame = read_file(argv[2], &flen);
  size_t intro_len = sizeof HEAD - 1 + plen;
  char *intro = malloc(intro_len);
  memcpy(intro, HEAD, sizeof HEAD - 1);
  memcpy(intro + sizeof HEAD - 1, prologue, plen);

  char host[64] = "127.0.0.1";
  int port = 0;
  if (argc > 3) {
    const char *colon = strrchr(argv[3], ':');
    if (!colon || (size_t)(colon - argv[3]) >= sizeof host) { fprintf(stderr, "cwrite: bad HOST:PORT\n"); return 2; }
    memcpy(host, argv[3], (size_t)(colon - argv[3]));
    host[colon - argv[3]] = 0;
    port = atoi(colon + 1);
  }

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  nconns = (int)rl.rlim_cur;
  conns = calloc((size_t)nconns, sizeof *conns);
  streams = calloc((size_t)nconns, sizeof *streams);
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "cwrite: bad host %s\n", host); return 2; }
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 4096) < 0) die("listen");
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  printf("listening on http://%s:%d\n", host, ntohs(addr.sin_port));
  fflush(stdout);
  /* CWRITE_PROCS=N: N processes on the one listening socket, each accepting and writing to its own share (the C
   * floor for a server with N workers on a shared socket). A child is sent SIGTERM when the parent exits. */
  const char *procs_env = getenv("CWRITE_PROCS");
  for (int p = procs_env ? atoi(procs_env) : 1; p > 1; p--) {
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      break;
    }
  }

  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  int accepting = 1;

  int tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec its = {.it_interval = {1, 0}, .it_value = {now.tv_sec + 1, 0}};
  if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime");
  ev = (struct epoll_event){.events = EPOLLIN, .data.fd = tfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  ev = (struct epoll_event){.events = EPOLLIN, .data.fd = sfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    /* The tick first: a boundary must not wait behind a batch of reads. */
    for (int i = 0; i < n; i++) {
      if (events[i].data.fd != tfd) continue;
      uint64_t expirations;
      if (read(tfd, &expirations, sizeof expirations) > 0) {
        clock_gettime(CLOCK_REALTIME, &now);
        tick(frame, flen, now.tv_sec, now.tv_nsec / 1e3);
        if (!accepting) {
          ev = (struct epoll_event){.events = EPOLLIN, .data.fd = lfd};
          epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
          accepting = 1;
        }
      }
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == tfd) continue;
      if (fd == lfd) accept_all(lfd, &accepting);
      else if (fd == sfd) {
        for (int k = 0; k < nstreams; k++) {
          if (write(streams[k], ";", 1) < 0) { /* nothing more to do for this one */ }
          shutdown(streams[k], SHUT_WR);
        }
        printf("stopped: %d streams ended\n", nstreams);
        return 0;
      } else if (conns[fd].state != FREE) on_readable(fd, intro, intro_len);
    }
  }
}
