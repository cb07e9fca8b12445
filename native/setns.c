// netlet's setns addon: move the calling thread into another network
// namespace with setns(2). A network namespace belongs to a thread, and a
// netlink socket stays in the namespace of the thread that created it; the
// `netlink` package has no namespace option, so this is the missing piece.
// Only the stable N-API C API (node_api.h) is used, so one build works on
// every Node.js version with N-API 8 (built here against the machine's Node
// 20 headers, run under Node 24).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <node_api.h>
#include "napi-errno.h"

static int get_int_arg(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want + 1) return -1;
  return napi_get_value_int32(env, argv[want], out) == napi_ok ? 0 : -1;
}

// setns(fd: number): moves the calling thread into the network namespace
// that `fd` (an open /proc/<pid>/ns/net or bind-mounted netns file) refers to.
static napi_value js_setns(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (get_int_arg(env, info, 0, &fd) != 0) {
    napi_throw_type_error(env, NULL, "setns(fd): fd must be a number");
    return NULL;
  }
  if (setns(fd, CLONE_NEWNET) != 0) return throw_errno(env, "setns", errno);
  return NULL;
}

// currentNetnsFd(): an O_RDONLY|O_CLOEXEC fd of the calling thread's own
// network namespace (/proc/thread-self, not /proc/self: the main thread and
// this thread may differ), so the caller can return to it.
static napi_value js_current_fd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /proc/thread-self/ns/net", errno);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setns", NULL, js_setns, NULL, NULL, NULL, napi_enumerable, NULL},
    {"currentNetnsFd", NULL, js_current_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
