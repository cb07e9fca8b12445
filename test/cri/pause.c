/* A pause process for test pod sandboxes: holds the pod's namespaces and
 * exits cleanly on SIGTERM/SIGINT; reaps children as PID 1 must. Built with
 * gcc -static, so the image needs nothing else. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  signal(SIGTERM, quit);
  signal(SIGINT, quit);
  signal(SIGCHLD, reap);
  for (;;) pause();
  return 0;
}
