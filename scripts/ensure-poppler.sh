#!/usr/bin/env bash
# Make sure poppler's pdftotext, the reference text `make bench-import` scores against, is installed.
# Does nothing when pdftotext exists; installs Debian's poppler-utils with apt-get when running as
# root; otherwise fails with a message (the benchmark cannot score recall without it).
set -euo pipefail

if command -v pdftotext >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-poppler: pdftotext missing; installing the Debian poppler-utils package with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
    exit 0
fi

echo "ensure-poppler: pdftotext missing and cannot install it here (needs root and apt-get);" \
     "install poppler-utils" >&2
exit 1
