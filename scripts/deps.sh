#!/usr/bin/env bash
# Install glasstcp's build and test dependencies on Debian 12.
# Usage: scripts/deps.sh [EXTRA_PACKAGE...]
# Quiet and fast when everything is already installed; otherwise installs only what is missing.
set -euo pipefail

pkgs=(cmake pkg-config libcmocka-dev libpcap-dev graphviz tcpdump tshark iproute2 socat curl iputils-ping wrk python3 gnuplot-nox
      doxygen help2man chromium liblwip-dev clang libclang-rt-14-dev python3-scapy valgrind "$@")
# chromium: tests/trace/html_chromium.py renders glass trace --html; liblwip-dev: glass bench runs
# Debian's lwIP beside glasstcp (docs/performance.md); clang + its runtimes: make fuzz; scapy:
# tests/robustness; doxygen: the API reference (make docs); help2man: the man pages; valgrind:
# bench/crr_cost.py counts instructions per crr connection (make crr-cost)

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

die() {
    echo "deps.sh: $*" >&2
    exit 1
}

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: ${missing[*]}"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo; run as root: apt-get install ${missing[*]}"
    sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq >/dev/null ||
    die "apt-get update failed (no network or package sources?)"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install failed for: ${missing[*]}"
