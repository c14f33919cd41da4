/* flood: a junk-request client for timegif's flood benchmark (flood-bench.mjs).
 *
 * Plays misrouted BitTorrent clients: CONNS connections, each sending
 *   GET /announce?info_hash=%..&peer_id=-TR2940-...&port=6881&uploaded=0&downloaded=0&left=0&event=started
 * with `Host: tracker.example.org` and `User-Agent: Transmission/2.94`, in one of two modes:
 *   keepalive  send, read the whole response (head + Content-Length body), send again; pipelining off. When the
 *              server says `Connection: close` (or closes), wait for its close and open a new connection.
 *   close      `Connection: close` on every request; read the response and the server's close, then reconnect.
 * Every new connection is bound to the next source address of SRC (round-robin over 127.x.y.z hosts, .0 and
 * .255 left out), so per-address limits on the server are not what gets measured. epoll, level-triggered,
 * nonblocking sockets; one shared read buffer; a small head buffer per connection.
 *
 * A connection the server closes (FIN or reset) before any byte of a response is counted as `dropped`; one
 * that ends mid-response as `partial`. Blocked peers (dropped at accept) therefore show up as dropped with
 * bytes_in 0.
 *
 *   flood [--mode keepalive|close] [--conns N] [--seconds S] [--src CIDR] [--host NAME] [--path TARGET] HOST:PORT
 * --path replaces the announce with `GET TARGET` (with the same Host and headers): any request, for other benches.
 * stdout, at every wall-clock second boundary (cumulative counts), then the status codes seen:
 *   sec SEC responses R connects C dropped D partial P errors E bytes_in B open O
 *   status CODE COUNT
 *   done
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
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

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define HEAD_MAX 1024
enum { CONNECTING = 1, AWAIT = 2, DRAIN = 3 };

struct conn {
  int fd;
  uint8_t state;
  uint8_t server_close; /* the response said Connection: close */
  uint16_t head_len;    /* bytes of the current response's head buffered */
  int32_t body_left;    /* -1 while reading the head */
  uint32_t got;         /* bytes of the current response received */
  char head[HEAD_MAX];
};

static struct {
  unsigned long long responses, connects, dropped, partial, errors, bytes_in;
} st;
static unsigned long long status_count[600];
static int open_conns;
static int close_mode;
static int epfd;
static struct sockaddr_in dst;
static uint32_t src_first, src_count, src_next;
static char request[1024];
static size_t request_len;

static void die(const char *what) {
  perror(what);
  exit(2);
}

static uint32_t next_src(void) {
  for (;;) {
    uint32_t a = src_first + (src_next++ % src_count);
    if ((a & 255) != 0 && (a & 255) != 255) return a;
    if (src_count <= 2) return a;
  }
}

static void conn_open(struct conn *c);

/* Every end of a connection comes here; a new one takes its place. */
static void conn_end(struct conn *c) {
  if (c->state == CONNECTING || c->state == AWAIT) {
    if (c->got == 0) st.dropped++;
    else st.partial++;
  }
  close(c->fd); /* also removes it from the epoll set */
  c->fd = -1;
  open_conns--;
  conn_open(c);
}

static void send_request(struct conn *c) {
  c->state = AWAIT;
  c->head_len = 0;
  c->body_left = -1;
  c->got = 0;
  c->server_close = 0;
  ssize_t n = write(c->fd, request, request_len);
  if (n != (ssize_t)request_len) {
    st.errors++;
    c->state = DRAIN; /* not counted as dropped: the write itself failed */
    conn_end(c);
  }
}

static void conn_open(struct conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(next_src())};
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
  c->fd = fd;
  c->state = CONNECTING;
  c->got = 0;
  open_conns++;
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
    st.errors++;
    close(fd);
    c->fd = -1;
    open_conns--;
    return; /* retried from the main loop */
  }
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

/* The head is complete in c->head[0..end): status code, Content-Length, Connection: close. */
static int parse_head(struct conn *c, size_t end) {
  if (end < 12 || memcmp(c->head, "HTTP/1.", 7) != 0) return -1;
  int code = (c->head[9] - '0') * 100 + (c->head[10] - '0') * 10 + (c->head[11] - '0');
  if (code < 100 || code > 599) return -1;
  status_count[code]++;
  long len = 0;
  for (size_t i = 0; i < end; i++) {
    if (c->head[i] != '\n') continue;
    const char *h = c->head + i + 1;
    size_t rest = end - i - 1;
    if (rest > 15 && strncasecmp(h, "content-length:", 15) == 0) len = strtol(h + 15, NULL, 10);
    else if (rest > 17 && strncasecmp(h, "connection: close", 17) == 0) c->server_close = 1;
  }
  c->body_left = (int32_t)len;
  return 0;
}

static void response_done(struct conn *c) {
  st.responses++;
  if (close_mode || c->server_close) c->state = DRAIN; /* wait for the server's close */
  else send_request(c);
}

static char rbuf[65536];

static void on_readable(struct conn *c) {
  ssize_t n = read(c->fd, rbuf, sizeof rbuf);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    conn_end(c); /* EOF or reset */
    return;
  }
  st.bytes_in += (unsigned long long)n;
  if (c->state != AWAIT) {
    if (c->state == DRAIN) st.errors++; /* bytes after a complete response: none expected */
    return;
  }
  c->got += (uint32_t)n;
  const char *p = rbuf;
  size_t left = (size_t)n;
  if (c->body_left < 0) {
    size_t take = left < (size_t)(HEAD_MAX - c->head_len) ? left : (size_t)(HEAD_MAX - c->head_len);
    memcpy(c->head + c->head_len, p, take);
    size_t from = c->head_len >= 3 ? c->head_len - 3 : 0;
    c->head_len = (uint16_t)(c->head_len + take);
    char *e = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
    if (e == NULL) {
      if (c->head_len >= HEAD_MAX) { st.errors++; c->state = DRAIN; conn_end(c); }
      return;
    }
    size_t end = (size_t)(e - c->head) + 4;
    if (parse_head(c, end) < 0) { st.errors++; c->state = DRAIN; conn_end(c); return; }
    size_t used = end - (c->head_len - take); /* bytes of this read that belonged to the head */
    p += used;
    left -= used;
  }
  if ((size_t)c->body_left > left) { c->body_left -= (int32_t)left; return; }
  if ((size_t)c->body_left < left) st.errors++; /* pipelining is off: nothing may follow */
  c->body_left = 0;
  response_done(c);
}

static long long now_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(void) {
  fprintf(stderr, "usage: flood [--mode keepalive|close] [--conns N] [--seconds S] [--src CIDR] [--host NAME] [--path TARGET] HOST:PORT\n");
  exit(2);
}

int main(int argc, char **argv) {
  int conns = 100, seconds = 10;
  const char *src = "127.2.0.0/16", *host = "tracker.example.org", *target = NULL, *path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') { target = a; continue; }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "--mode") == 0) {
      if (strcmp(v, "close") == 0) close_mode = 1;
      else if (strcmp(v, "keepalive") != 0) usage();
    } else if (strcmp(a, "--conns") == 0) conns = atoi(v);
    else if (strcmp(a, "--seconds") == 0) seconds = atoi(v);
    else if (strcmp(a, "--src") == 0) src = v;
    else if (strcmp(a, "--host") == 0) host = v;
    else if (strcmp(a, "--path") == 0) path = v;
    else usage();
  }
  if (target == NULL || conns < 1 || seconds < 1) usage();

  char addr[64];
  const char *colon = strrchr(target, ':');
  if (colon == NULL || (size_t)(colon - target) >= sizeof addr) usage();
  memcpy(addr, target, (size_t)(colon - target));
  addr[colon - target] = 0;
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) usage();

  char sip[64];
  int bits = 32;
  const char *slash = strchr(src, '/');
  size_t sl = slash ? (size_t)(slash - src) : strlen(src);
  if (sl >= sizeof sip) usage();
  memcpy(sip, src, sl);
  sip[sl] = 0;
  if (slash) bits = atoi(slash + 1);
  struct in_addr sa;
  if (inet_pton(AF_INET, sip, &sa) != 1 || bits < 8 || bits > 32) usage();
  src_count = bits == 32 ? 1u : (1u << (32 - bits));
  src_first = ntohl(sa.s_addr) & ~(src_count - 1);

  /* A 20-byte info_hash, percent-encoded as Transmission does, and a Transmission 2.94 peer id. */
  static const unsigned char hash[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xed,
                                         0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21, 0x55, 0xaa, 0x3c, 0xc3};
  char ih[61];
  for (int i = 0; i < 20; i++) snprintf(ih + 3 * i, 4, "%%%02X", hash[i]);
  if (path != NULL)
    request_len = (size_t)snprintf(request, sizeof request,
        "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Transmission/2.94\r\nAccept: */*\r\n"
        "Accept-Encoding: gzip;q=1.0, deflate, identity\r\n%s\r\n",
        path, host, close_mode ? "Connection: close\r\n" : "");
  else
    request_len = (size_t)snprintf(request, sizeof request,
        "GET /announce?info_hash=%s&peer_id=-TR2940-k8hj0wgej6ch&port=6881&uploaded=0&downloaded=0&left=0"
        "&event=started&key=6c28a7b5&compact=1&numwant=80&supportcrypto=1&requirecrypto=0 HTTP/1.1\r\n"
        "Host: %s\r\nUser-Agent: Transmission/2.94\r\nAccept: */*\r\n"
        "Accept-Encoding: gzip;q=1.0, deflate, identity\r\n%s\r\n",
        ih, host, close_mode ? "Connection: close\r\n" : "");
  if (request_len >= sizeof request) usage();

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  for (int i = 0; i < conns; i++) conn_open(&cs[i]);

  long long next = (now_ns(CLOCK_REALTIME) / 1000000000LL + 1) * 1000000000LL;
  int lines = 0;
  struct epoll_event evs[512];
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    long long t = now_ns(CLOCK_REALTIME);
    if (t >= next) {
      printf("sec %lld responses %llu connects %llu dropped %llu partial %llu errors %llu bytes_in %llu open %d\n",
             next / 1000000000LL, st.responses, st.connects, st.dropped, st.partial, st.errors, st.bytes_in, open_conns);
      if (++lines > seconds) break;
      next += 1000000000LL;
      /* Connections whose connect() failed outright are retried once a second. */
      for (int i = 0; i < conns; i++)
        if (cs[i].fd < 0) conn_open(&cs[i]);
    }
    int wait_ms = (int)((next - t) / 1000000) + 1;
    int n = epoll_wait(epfd, evs, 512, wait_ms);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c->state == CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err != 0) { st.errors++; c->state = DRAIN; conn_end(c); continue; }
        st.connects++;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        send_request(c);
        continue;
      }
      on_readable(c);
    }
  }
  for (int i = 0; i < 600; i++)
    if (status_count[i]) printf("status %d %llu\n", i, status_count[i]);
  printf("done\n");
  return 0;
}
