#!/usr/bin/env bash
# Prepares a machine (Debian 12, as root) to build, test and demo netlet:
# the Debian packages the tests and demo use, then the npm packages (which
# bring Node 24 as the `node` dev dependency). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  iproute2 iptables ipset nftables conntrack kmod procps
  user-mode-linux ipvsadm
  bind9-dnsutils dnsperf dnsmasq-base knot
  iperf3 curl netcat-openbsd iputils-ping ethtool
  containerd runc busybox-static containernetworking-plugins
  python3 make g++ libc6-dev
  bird2 gobgpd openssl
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start daemons we run ourselves, per test, in namespaces.
  for svc in containerd bird knot dnsmasq gobgpd; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
echo "setup: done ($(npx node --version))"
