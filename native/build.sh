#!/bin/sh
# Builds the native parts (npm runs this at install):
#  - the N-API addons of native/binding.gyp: setns (setns.c), the DNS
#    server's UDP batches (udp-batch.c), malloc_trim (malloc-trim.c) and
#    posix_spawn for the iptables tools (spawn.c) and TCP MD5 keys for BGP
#    sessions (tcp-md5.c).
#    node-gyp would download Node headers from the internet; the machine's own headers (Debian's or NodeSource's
#    `nodejs` package puts them in /usr/include/node) serve as well, since
#    the addons use only the stable N-API (and libuv's stable uv_poll);
#  - the netlet-cni shim, a plain C program (cni-shim.c).
set -e
cd "$(dirname "$0")"
if [ -f /usr/include/node/node_api.h ]; then
  set -- --nodedir=/usr
fi
node-gyp rebuild "$@"
# Static, so the copy the DaemonSet puts on a host runs whatever its C library.
${CC:-cc} -O2 -Wall -static -o build/Release/netlet-cni-shim cni-shim.c
