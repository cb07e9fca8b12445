#!/bin/sh
# Builds the native parts (npm runs this at install):
#  - the setns addon. node-gyp would download Node headers from the
#    internet; the machine's own headers (Debian's or NodeSource's `nodejs`
#    package puts them in /usr/include/node) serve as well, since the addon
#    uses only the stable N-API;
#  - the netlet-cni shim, a plain C program (cni-shim.c).
set -e
cd "$(dirname "$0")"
if [ -f /usr/include/node/node_api.h ]; then
  set -- --nodedir=/usr
fi
node-gyp rebuild "$@"
# Static, so the copy the DaemonSet puts on a host runs whatever its C library.
${CC:-cc} -O2 -Wall -static -o build/Release/netlet-cni-shim cni-shim.c
