// Shared by netlet's N-API addons: a failed system call becomes a JS Error
// whose message names the call and whose code is ERRNO_<n>.
#ifndef NETLET_NAPI_ERRNO_H
#define NETLET_NAPI_ERRNO_H
#include <stdio.h>
#include <string.h>
#include <node_api.h>

static inline napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  char code[32];
  snprintf(code, sizeof code, "ERRNO_%d", err);
  napi_throw_error(env, code, msg);
  return NULL;
}

#endif
