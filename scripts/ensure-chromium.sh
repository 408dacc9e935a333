#!/usr/bin/env bash
# Make sure the system Chromium the browser tests drive is installed; they never download one.
# Does nothing when /usr/bin/chromium exists; installs it with apt-get when running as root;
# otherwise only warns (the browser tests then skip, or fail when QA_REQUIRE_BROWSER=1).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -e "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM missing; installing the Debian chromium package with apt-get"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
    exit 0
fi

echo "ensure-chromium: warning: $CHROMIUM missing and cannot install it here (needs root and apt-get);" \
     "browser tests will skip (or fail with QA_REQUIRE_BROWSER=1)" >&2
