{
  "targets": [
    {
      "target_name": "netlet_setns",
      "sources": ["setns.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "netlet_udp_batch",
      "sources": ["udp-batch.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "netlet_spawn",
      "sources": ["spawn.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "netlet_tcp_md5",
      "sources": ["tcp-md5.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "netlet_malloc_trim",
      "sources": ["malloc-trim.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
