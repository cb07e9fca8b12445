// netlet's TCP MD5 addon (RFC 2385, BGP session protection): Node.js has no
// way to set TCP_MD5SIG, and the key must be on a socket before its SYN is
// sent or answered. Two calls: tcpSocket() makes an unconnected TCP socket
// for net.Socket({fd}) to connect (so the key can go on it first), and
// setMd5(fd, peer, key) puts a peer's key on any TCP socket (a dialling one,
// or a listener, whose accepted sockets inherit it); an empty key removes it.
// On an IPv6 socket an IPv4 peer is written v4-mapped: the kernel then keys
// the IPv4 connections that socket accepts. Stable N-API only (as setns.c).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include "napi-errno.h"

// tcpSocket(family: 4 | 6): a non-blocking, close-on-exec TCP socket fd.
static napi_value js_tcp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t family = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6)) {
    napi_throw_type_error(env, NULL, "tcpSocket(family): family must be 4 or 6");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// setMd5(fd: number, peer: string, key: Buffer): the TCP MD5 key for `peer` on `fd`.
static napi_value js_set_md5(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  char peer[INET6_ADDRSTRLEN + 1];
  size_t peer_len = 0;
  void *key = NULL;
  size_t key_len = 0;
  bool is_buffer = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], peer, sizeof peer, &peer_len) != napi_ok ||
      napi_is_buffer(env, argv[2], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[2], &key, &key_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "setMd5(fd, peer, key): a number, an IP address and a Buffer");
    return NULL;
  }
  if (key_len > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, NULL, "setMd5: a TCP MD5 key has at most 80 bytes");
    return NULL;
  }
  struct sockaddr_storage own;
  socklen_t own_len = sizeof own;
  if (getsockname(fd, (struct sockaddr *)&own, &own_len) != 0) return throw_errno(env, "getsockname", errno);

  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET6, peer, &v6) == 1) {
    if (own.ss_family != AF_INET6) {
      napi_throw_error(env, "EAFNOSUPPORT", "setMd5: an IPv6 peer on an IPv4 socket");
      return NULL;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sig.tcpm_addr;
    a->sin6_family = AF_INET6;
    a->sin6_addr = v6;
  } else if (inet_pton(AF_INET, peer, &v4) == 1) {
    if (own.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sig.tcpm_addr;
      a->sin6_family = AF_INET6;
      a->sin6_addr.s6_addr[10] = 0xff;
      a->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&sig.tcpm_addr;
      a->sin_family = AF_INET;
      a->sin_addr = v4;
    }
  } else {
    napi_throw_type_error(env, NULL, "setMd5: peer is not an IP address");
    return NULL;
  }
  sig.tcpm_keylen = (uint16_t)key_len;
  if (key_len) memcpy(sig.tcpm_key, key, key_len);
  // Removing a key that is not there is not an error for the caller: the wanted state holds.
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0 && !(key_len == 0 && errno == ENOENT)) {
    return throw_errno(env, "setsockopt TCP_MD5SIG", errno);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"tcpSocket", NULL, js_tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setMd5", NULL, js_set_md5, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
