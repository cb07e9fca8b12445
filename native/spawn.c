// posix_spawn(3) for the iptables tools. Node's child_process (libuv) starts
// a child with fork(2) on Linux, which copies the whole page table of the
// calling process: measured here, 21-26 ms per fork+exec from a process of
// 450 MB resident against 0.5 ms with posix_spawn, which glibc (2.24+)
// implements with clone(CLONE_VM|CLONE_VFORK) and so copies nothing. The
// agent at 10k services is 130-180 MB, and every sync spawns
// iptables-restore: the fork was a fixed part of each change's latency.
// Stable N-API only, like setns.c.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <node_api.h>
#include "napi-errno.h"

extern char **environ;

#define MAX_ARGS 64
#define MAX_ARG_LEN 4096

// spawn(file, args): starts `file` (looked up in PATH) with argv [file,
// ...args] and the process's environment, its stdin, stdout and stderr on
// new pipes. Returns [pid, stdinFd, stdoutFd, stderrFd]: the parent's ends,
// close-on-exec. The child starts with every signal at its default (Node
// ignores SIGPIPE, which exec would otherwise pass on) and none blocked.
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "spawn(file, args)");
    return NULL;
  }
  uint32_t n = 0;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok || n + 2 > MAX_ARGS) {
    napi_throw_type_error(env, NULL, "spawn: args must be an array of at most 62 strings");
    return NULL;
  }
  static char store[MAX_ARGS][MAX_ARG_LEN];
  char *args[MAX_ARGS];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], store[0], MAX_ARG_LEN, &len) != napi_ok || len == 0 || len >= MAX_ARG_LEN - 1) {
    napi_throw_type_error(env, NULL, "spawn: file must be a non-empty string");
    return NULL;
  }
  args[0] = store[0];
  for (uint32_t i = 0; i < n; i++) {
    napi_value a;
    if (napi_get_element(env, argv[1], i, &a) != napi_ok ||
        napi_get_value_string_utf8(env, a, store[i + 1], MAX_ARG_LEN, &len) != napi_ok || len >= MAX_ARG_LEN - 1) {
      napi_throw_type_error(env, NULL, "spawn: every arg must be a string shorter than 4 KiB");
      return NULL;
    }
    args[i + 1] = store[i + 1];
  }
  args[n + 1] = NULL;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    int fds[] = {in[0], in[1], out[0], out[1], err[0], err[1]};
    for (int i = 0; i < 6; i++) if (fds[i] >= 0) close(fds[i]);
    return throw_errno(env, "pipe2", e);
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, &attr, args, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return throw_errno(env, "posix_spawnp", rc);
  }
  napi_value result, v;
  napi_create_array_with_length(env, 4, &result);
  int32_t vals[] = {pid, in[1], out[0], err[0]};
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_int32(env, vals[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

typedef struct {
  pid_t pid;
  int status;
  int err;
  napi_deferred deferred;
  napi_async_work work;
} wait_t;

// On a thread of libuv's pool: the child is ours alone (libuv reaps only the
// pids it spawned), so a blocking waitpid on it is safe.
static void wait_execute(napi_env env, void *data) {
  (void)env;
  wait_t *w = data;
  for (;;) {
    pid_t r = waitpid(w->pid, &w->status, 0);
    if (r == w->pid) return;
    if (r < 0 && errno == EINTR) continue;
    w->err = errno;
    return;
  }
}

static void wait_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  wait_t *w = data;
  if (w->err) {
    napi_value msg, code, e;
    char text[128], c[32];
    snprintf(text, sizeof text, "waitpid: %s", strerror(w->err));
    snprintf(c, sizeof c, "ERRNO_%d", w->err);
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &e);
    napi_reject_deferred(env, w->deferred, e);
  } else {
    // [exit code or -1, signal number or 0]
    napi_value result, v;
    napi_create_array_with_length(env, 2, &result);
    napi_create_int32(env, WIFEXITED(w->status) ? WEXITSTATUS(w->status) : -1, &v);
    napi_set_element(env, result, 0, v);
    napi_create_int32(env, WIFSIGNALED(w->status) ? WTERMSIG(w->status) : 0, &v);
    napi_set_element(env, result, 1, v);
    napi_resolve_deferred(env, w->deferred, result);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

// wait(pid): a Promise of [exitCode (-1 when killed), signal (0 when exited)].
static napi_value js_wait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "wait(pid)");
    return NULL;
  }
  wait_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "calloc", ENOMEM);
  w->pid = pid;
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "netlet_spawn_wait", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, wait_execute, wait_complete, w, &w->work);
  napi_queue_async_work(env, w->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL},
    {"wait", NULL, js_wait, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 2, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
