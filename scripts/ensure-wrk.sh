#!/usr/bin/env bash
# Make sure Debian's wrk (the HTTP load generator bench-scale drives) is installed.
# Does nothing when wrk is on PATH; installs it with apt-get when running as root; otherwise
# only warns (benchmarks/scale.py then falls back to its own Python load generator).
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-wrk: wrk missing; installing the Debian wrk package with apt-get"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq wrk >/dev/null
    exit 0
fi

echo "ensure-wrk: warning: wrk missing and cannot install it here (needs root and apt-get);" \
     "bench-scale uses its Python load generator instead" >&2
