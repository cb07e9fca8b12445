// UDP sockets that move datagrams to and from JavaScript in batches:
// recvmmsg(2) fills up to BATCH slots of a buffer JavaScript owns, one call
// into JavaScript handles them all, and sendmmsg(2) sends the replies.
//
// Why by hand: Node's dgram costs one callback into JavaScript per datagram
// (async-context bookkeeping, a fresh Buffer, an `rinfo` object whose address
// is formatted with inet_ntop), and one request object and a DNS-lookup tick
// per send. For a DNS server whose answer is ~2 µs of JavaScript that
// overhead is most of the cost of a query. No npm package offers
// recvmmsg/sendmmsg batches for Node (looked for one before writing this).
//
// It also echoes IP_PKTINFO / IPV6_PKTINFO: a reply leaves from the address
// the query was sent to, also on a wildcard (0.0.0.0 / ::) socket, as C DNS
// servers do (CoreDNS through miekg/dns, Unbound's interface-automatic).
//
// Only the stable N-API (node_api.h) and libuv's uv_poll are used; libuv's
// uv_poll_t is ABI-stable across libuv 1.x, which every Node with N-API 8
// ships. Context-aware (NAPI_MODULE_INIT): loads in worker threads too.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include "napi-errno.h"
#include <uv.h>

// Datagrams per recvmmsg/sendmmsg call, and bytes per received datagram
// (a query larger than this is reported truncated: length -1).
#define BATCH 64
#define SLOT 4096
// Per slot, what a reply needs to go back (the layout src/dns/transport/udp-batch.ts reads):
//   0..27  the peer's sockaddr_in / sockaddr_in6
//   28     its length (int32)
//   32     0, or IPPROTO_IP / IPPROTO_IPV6 when a destination address was seen
//   36..51 that destination address (in_addr or in6_addr)
#define REC 64
#define REC_NAMELEN 28
#define REC_PKTLEVEL 32
#define REC_PKTADDR 36
#define CTRL_SIZE 64
#define RCVBUF (4 << 20)

typedef struct udp_s {
  uv_poll_t poll;
  int fd;
  int closed;
  napi_env env;
  napi_ref callback;
  napi_ref buffers[3];
  napi_async_context actx;
  napi_async_cleanup_hook_handle cleanup;
  napi_async_cleanup_hook_handle teardown;
  char *in;
  int32_t *lens;
  char *recs;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  char ctrl[BATCH][CTRL_SIZE];
} udp_t;

static void on_closed(uv_handle_t *h) {
  udp_t *u = h->data;
  close(u->fd);
  free(u);
}

// Drops the JavaScript references, then closes the poll handle and the socket.
static void udp_close(udp_t *u) {
  if (u->closed) return;
  u->closed = 1;
  for (int i = 0; i < 3; i++) napi_delete_reference(u->env, u->buffers[i]);
  napi_delete_reference(u->env, u->callback);
  napi_async_destroy(u->env, u->actx);
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t *)&u->poll, on_closed);
}

static void on_teardown_closed(uv_handle_t *h) {
  udp_t *u = h->data;
  napi_async_cleanup_hook_handle hook = u->teardown;
  close(u->fd);
  free(u);
  napi_remove_async_cleanup_hook(hook);
}

// Environment teardown (a worker thread ending without close()): the poll
// handle must be closed before the loop goes away; Node keeps the loop
// running until the hook is removed. References die with the environment.
static void on_env_teardown(napi_async_cleanup_hook_handle hook, void *arg) {
  udp_t *u = arg;
  u->cleanup = NULL;
  u->closed = 1;
  u->teardown = hook;
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t *)&u->poll, on_teardown_closed);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  (void)events;
  udp_t *u = p->data;
  if (status < 0 || u->closed) return;
  // A few rounds at most: other sockets and timers get their turn.
  for (int round = 0; round < 4 && !u->closed; round++) {
    for (int i = 0; i < BATCH; i++) {
      u->iov[i].iov_base = u->in + (size_t)i * SLOT;
      u->iov[i].iov_len = SLOT;
      struct msghdr *m = &u->msgs[i].msg_hdr;
      m->msg_name = u->recs + (size_t)i * REC;
      m->msg_namelen = sizeof(struct sockaddr_in6);
      m->msg_iov = &u->iov[i];
      m->msg_iovlen = 1;
      m->msg_control = u->ctrl[i];
      m->msg_controllen = CTRL_SIZE;
      m->msg_flags = 0;
    }
    int n = recvmmsg(u->fd, u->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return; // EAGAIN: drained; other errors (ICMP-reported) are the next read's
    for (int i = 0; i < n; i++) {
      struct msghdr *m = &u->msgs[i].msg_hdr;
      char *rec = u->recs + (size_t)i * REC;
      *(int32_t *)(rec + REC_NAMELEN) = (int32_t)m->msg_namelen;
      *(int32_t *)(rec + REC_PKTLEVEL) = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          *(int32_t *)(rec + REC_PKTLEVEL) = IPPROTO_IP;
          memcpy(rec + REC_PKTADDR, &pi.ipi_addr, sizeof pi.ipi_addr);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          struct in6_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          *(int32_t *)(rec + REC_PKTLEVEL) = IPPROTO_IPV6;
          memcpy(rec + REC_PKTADDR, &pi.ipi6_addr, sizeof pi.ipi6_addr);
        }
      }
      u->lens[i] = (m->msg_flags & MSG_TRUNC) ? -1 : (int32_t)u->msgs[i].msg_len;
    }
    napi_handle_scope scope;
    napi_open_handle_scope(u->env, &scope);
    napi_value fn, recv, arg, result;
    napi_get_reference_value(u->env, u->callback, &fn);
    napi_get_global(u->env, &recv); // napi_make_callback wants an object as `this`
    napi_create_int32(u->env, n, &arg);
    napi_status st = napi_make_callback(u->env, u->actx, recv, fn, 1, &arg, &result);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(u->env, &err);
      napi_fatal_exception(u->env, err);
    }
    napi_close_handle_scope(u->env, scope);
    if (n < BATCH) return;
  }
}

// Writes the control message that makes a reply leave from the address its
// query went to; returns its length (0 when the query carried none).
static size_t put_pktinfo(const char *rec, char *ctrl) {
  int level = *(const int32_t *)(rec + REC_PKTLEVEL);
  struct msghdr m = {.msg_control = ctrl, .msg_controllen = CTRL_SIZE};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  memset(ctrl, 0, CTRL_SIZE);
  if (level == IPPROTO_IP) {
    struct in_pktinfo pi = {0};
    memcpy(&pi.ipi_spec_dst, rec + REC_PKTADDR, sizeof pi.ipi_spec_dst);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  if (level == IPPROTO_IPV6) {
    struct in6_pktinfo pi = {0};
    memcpy(&pi.ipi6_addr, rec + REC_PKTADDR, sizeof pi.ipi6_addr);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  return 0;
}

static void fill_msg(struct mmsghdr *mm, struct iovec *iov, char *ctrl, const char *rec, void *data, size_t len) {
  iov->iov_base = data;
  iov->iov_len = len;
  struct msghdr *m = &mm->msg_hdr;
  memset(m, 0, sizeof *m);
  m->msg_name = (void *)rec;
  m->msg_namelen = (socklen_t) * (const int32_t *)(rec + REC_NAMELEN);
  m->msg_iov = iov;
  m->msg_iovlen = 1;
  size_t clen = put_pktinfo(rec, ctrl);
  if (clen) {
    m->msg_control = ctrl;
    m->msg_controllen = clen;
  }
}

static udp_t *get_udp(napi_env env, napi_value v) {
  udp_t *u = NULL;
  napi_get_value_external(env, v, (void **)&u);
  if (!u || u->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "socket is closed");
    return NULL;
  }
  return u;
}

// open(host, port, ipv6, reusePort, inBuf, lens, recs, onBatch) → handle.
// inBuf: BATCH*SLOT bytes; lens: BATCH int32; recs: BATCH*REC bytes.
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) {
    napi_throw_type_error(env, NULL, "open(host, port, ipv6, reusePort, inBuf, lens, recs, onBatch)");
    return NULL;
  }
  char host[64];
  size_t hostLen;
  int32_t port;
  bool ipv6, reuse;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hostLen) != napi_ok || napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      napi_get_value_bool(env, argv[2], &ipv6) != napi_ok || napi_get_value_bool(env, argv[3], &reuse) != napi_ok) {
    napi_throw_type_error(env, NULL, "open: bad host, port or flags");
    return NULL;
  }
  void *data[3];
  size_t size[3];
  for (int i = 0; i < 3; i++) {
    bool is;
    if (napi_is_buffer(env, argv[4 + i], &is) != napi_ok || !is || napi_get_buffer_info(env, argv[4 + i], &data[i], &size[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "open: inBuf, lens and recs must be Buffers");
      return NULL;
    }
  }
  if (size[0] < (size_t)BATCH * SLOT || size[1] < BATCH * sizeof(int32_t) || size[2] < (size_t)BATCH * REC) {
    napi_throw_range_error(env, NULL, "open: buffers too small");
    return NULL;
  }
  union {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
  } sa;
  memset(&sa, 0, sizeof sa);
  socklen_t salen;
  if (ipv6) {
    sa.v6.sin6_family = AF_INET6;
    sa.v6.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &sa.v6.sin6_addr) != 1) return throw_errno(env, "open: not an IPv6 address", EINVAL);
    salen = sizeof sa.v6;
  } else {
    sa.v4.sin_family = AF_INET;
    sa.v4.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.v4.sin_addr) != 1) return throw_errno(env, "open: not an IPv4 address", EINVAL);
    salen = sizeof sa.v4;
  }
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  // SO_REUSEADDR as Node's dgram sets for reuseAddr; SO_REUSEPORT lets worker threads share the port.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt SO_REUSEPORT", e);
  }
  // Room for a burst: the default (net.core.rmem_default, 208 KiB) holds
  // ~200 small datagrams, and a client with 500 queries in flight lost
  // ~300 of them to the socket's drop counter at each start. The kernel
  // caps this at net.core.rmem_max.
  int rcvbuf = RCVBUF;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // Both: a dual-stack IPv6 socket gets IPv4 datagrams with IP_PKTINFO.
  setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  if (ipv6) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, salen) < 0) {
    int e = errno;
    close(fd);
    char what[96];
    snprintf(what, sizeof what, "bind %s:%d", host, port);
    return throw_errno(env, what, e);
  }
  udp_t *u = calloc(1, sizeof *u);
  u->fd = fd;
  u->env = env;
  u->in = data[0];
  u->lens = data[1];
  u->recs = data[2];
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[4 + i], 1, &u->buffers[i]);
  napi_create_reference(env, argv[7], 1, &u->callback);
  napi_value name;
  napi_create_string_utf8(env, "netlet.udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &u->actx);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &u->poll, fd);
  u->poll.data = u;
  uv_poll_start(&u->poll, UV_READABLE, on_readable);
  napi_add_async_cleanup_hook(env, on_env_teardown, u, &u->cleanup);
  napi_value handle;
  napi_create_external(env, u, NULL, NULL, &handle);
  return handle;
}

// localPort(handle) → the bound port (port 0 resolved).
static napi_value js_local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = get_udp(env, argv[0]);
  if (!u) return NULL;
  struct sockaddr_in6 sa;
  socklen_t len = sizeof sa;
  if (getsockname(u->fd, (struct sockaddr *)&sa, &len) < 0) return throw_errno(env, "getsockname", errno);
  napi_value out;
  napi_create_int32(env, ntohs(sa.sin6_port), &out); // sin_port and sin6_port share their offset
  return out;
}

// sendBatch(handle, replies, n) → datagrams sent. replies[i] (a Buffer, or
// anything else for "no reply") goes to the peer of received slot i.
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = get_udp(env, argv[0]);
  if (!u) return NULL;
  int32_t n;
  napi_get_value_int32(env, argv[2], &n);
  if (n > BATCH) n = BATCH;
  struct mmsghdr out[BATCH];
  struct iovec iov[BATCH];
  char ctrl[BATCH][CTRL_SIZE];
  int count = 0;
  for (int i = 0; i < n; i++) {
    napi_value el;
    bool is = false;
    if (napi_get_element(env, argv[1], (uint32_t)i, &el) != napi_ok) continue;
    napi_is_buffer(env, el, &is);
    if (!is) continue;
    void *data;
    size_t len;
    napi_get_buffer_info(env, el, &data, &len);
    fill_msg(&out[count], &iov[count], ctrl[count], u->recs + (size_t)i * REC, data, len);
    count++;
  }
  int sent = 0;
  while (sent < count) {
    int r = sendmmsg(u->fd, out + sent, (unsigned)(count - sent), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      // EAGAIN (send buffer full) or a per-peer error: that datagram is lost, as UDP may; the client retries.
      sent++;
      continue;
    }
    sent += r;
  }
  napi_value result;
  napi_create_int32(env, count, &result);
  return result;
}

// sendTo(handle, reply, rec): one reply to the peer described by a copy of a
// slot's REC bytes (for replies that come later, e.g. from the forwarder).
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = get_udp(env, argv[0]);
  if (!u) return NULL;
  void *data, *rec;
  size_t len, recLen;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || napi_get_buffer_info(env, argv[2], &rec, &recLen) != napi_ok || recLen < REC) {
    napi_throw_type_error(env, NULL, "sendTo(handle, reply, rec): Buffers expected");
    return NULL;
  }
  struct mmsghdr mm;
  struct iovec iov;
  char ctrl[CTRL_SIZE];
  fill_msg(&mm, &iov, ctrl, rec, data, len);
  ssize_t r;
  do r = sendmsg(u->fd, &mm.msg_hdr, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  napi_value result;
  napi_get_boolean(env, r >= 0, &result);
  return result;
}

// close(handle): stops reading and closes the socket (idempotent).
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  udp_t *u = NULL;
  napi_get_value_external(env, argv[0], (void **)&u);
  if (u && !u->closed) {
    if (u->cleanup) napi_remove_async_cleanup_hook(u->cleanup);
    u->cleanup = NULL;
    udp_close(u);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, js_local_port, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value consts;
  napi_create_object(env, &consts);
  const char *names[] = {"BATCH", "SLOT", "REC"};
  int values[] = {BATCH, SLOT, REC};
  for (int i = 0; i < 3; i++) {
    napi_value v;
    napi_create_int32(env, values[i], &v);
    napi_set_named_property(env, consts, names[i], v);
  }
  napi_set_named_property(env, exports, "constants", consts);
  return exports;
}
