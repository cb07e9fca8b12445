/* netlet-cni's fast path: a tiny client that hands one CNI call to the
 * resident netlet agent over a Unix socket, so a pod's network setup does
 * not pay for starting Node.js (~30 ms of CPU before any work).
 *
 * It reads the whole config from stdin, connects to the socket named in the
 * file "<own path>.socket" (default /run/netlet/cni.sock), sends
 *   "KEY=VALUE\0" for every CNI_* variable, one more "\0", then stdin,
 * half-closes, and reads back one byte of exit status followed by the text
 * to print on stdout. When no agent answers, it runs "<own path>-node" (the
 * Node.js launcher) itself with the same environment and stdin, so the
 * plugin works without the agent, only slower.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static void fail(int code, const char *msg) {
  printf("{\"cniVersion\":\"1.1.0\",\"code\":%d,\"msg\":\"netlet-cni: %s\"}\n", code, msg);
  exit(1);
}

static char *read_all(int fd, size_t *len) {
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap);
  if (!buf) fail(5, "out of memory");
  for (;;) {
    if (n == cap && !(buf = realloc(buf, cap *= 2))) fail(5, "out of memory");
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(5, "read failed");
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* No agent: run the Node.js launcher with stdin replayed from a memfd. */
static void run_fallback(const char *self, const char *input, size_t len) {
  char path[4200];
  snprintf(path, sizeof path, "%s-node", self);
  int mfd = memfd_create("netlet-cni-stdin", 0);
  if (mfd < 0 || write_all(mfd, input, len) < 0 || lseek(mfd, 0, SEEK_SET) < 0 || dup2(mfd, 0) < 0) fail(5, "cannot replay stdin");
  char *argv[] = {path, NULL};
  execve(path, argv, environ);
  fail(5, "no agent socket and no Node.js launcher beside the plugin");
}

int main(void) {
  /* An agent that goes away mid-call must give a CNI error, not a SIGPIPE death. */
  signal(SIGPIPE, SIG_IGN);
  char self[4096];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
  if (sl <= 0) fail(5, "cannot find own path");
  self[sl] = 0;

  size_t in_len;
  char *input = read_all(0, &in_len);

  char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/run/netlet/cni.sock";
  char conf[4200];
  snprintf(conf, sizeof conf, "%s.socket", self);
  int cfd = open(conf, O_RDONLY | O_CLOEXEC);
  if (cfd >= 0) {
    ssize_t r = read(cfd, sock_path, sizeof sock_path - 1);
    close(cfd);
    if (r > 0) {
      sock_path[r] = 0;
      sock_path[strcspn(sock_path, "\r\n")] = 0;
    }
  }

  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1); /* both 108 bytes, NUL-terminated above */
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
    if (s >= 0) close(s);
    run_fallback(self, input, in_len);
  }

  for (char **e = environ; *e; e++) {
    if (strncmp(*e, "CNI_", 4) == 0 && write_all(s, *e, strlen(*e) + 1) < 0) fail(11, "the agent closed the connection; try again");
  }
  if (write_all(s, "", 1) < 0 || write_all(s, input, in_len) < 0) fail(11, "the agent closed the connection; try again");
  shutdown(s, SHUT_WR);

  size_t out_len;
  char *out = read_all(s, &out_len);
  if (out_len == 0) fail(11, "the agent did not answer; try again");
  if (write_all(1, out + 1, out_len - 1) < 0) return 1;
  return (unsigned char)out[0];
}
