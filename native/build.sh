#!/bin/sh
# Builds the setns addon (npm runs this at install). node-gyp would download
# Node headers from the internet; the machine's own headers (Debian's or
# NodeSource's `nodejs` package puts them in /usr/include/node) serve as well,
# since the addon uses only the stable N-API.
set -e
cd "$(dirname "$0")"
if [ -f /usr/include/node/node_api.h ]; then
  set -- --nodedir=/usr
fi
exec node-gyp rebuild "$@"
