// malloc_trim(3) for netlet's long-running commands. After loading a
// cluster (a 10k-service LIST, 50k pods from a folder or the API) glibc
// keeps the freed heap memory of those bursts resident; V8's own collection
// cannot give it back because it is not V8's. Measured on `netlet dns` at
// 10k services / 50k pods: RSS 122 -> 103 MB. Node has no binding for it.
// Stable N-API only, like setns.c.
#include <node_api.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// trim(): returns true when memory was given back to the system, false when
// nothing was (or on a C library without malloc_trim).
static napi_value js_trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value out;
  napi_get_boolean(env, released != 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, js_trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
