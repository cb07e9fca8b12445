# netlet's image: the agent, the DNS server and netlet-cni on a supported
# Node LTS. The build stage compiles the native setns addon and bundles the
# CNI plugin and the command line (dist/, scripts/build.ts); the runtime stage
# has only what the agent execs or reads. `netlet <command>` (bin/netlet.js)
# runs the bundle dist/netlet.mjs, built after every source here and so never
# stale, and starts agent/dns with their Node flags and MALLOC_ARENA_MAX
# (docs/design/agent-memory.md; NETLET_NODE_FLAGS to change them).
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/netlet
# npm ci runs the package's install script, native/build.sh (both N-API
# addons and the CNI shim), so native/ comes in before it.
COPY package.json package-lock.json ./
COPY native/ native/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      iptables ipset conntrack iproute2 kmod ipvsadm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/netlet
COPY --from=build /opt/netlet /opt/netlet
RUN ln -s /opt/netlet/bin/netlet.js /usr/local/bin/netlet \
    && ln -s /opt/netlet/bin/netlet-cni.js /usr/local/bin/netlet-cni
ENTRYPOINT []
CMD ["netlet", "agent"]
