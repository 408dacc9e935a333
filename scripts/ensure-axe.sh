#!/usr/bin/env bash
# Fetch axe-core (the accessibility rules engine) for the browser tests' WCAG audit, once.
# It lands in .cache/axe-core/ (not committed); the tests inject it into pages with the CSP
# bypassed in the test browser only. Without npm the audit tests fail with a clear message.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=4.14.1
TARGET=.cache/axe-core

if [ -f "$TARGET/node_modules/axe-core/axe.min.js" ] && \
   grep -q "\"version\": \"$AXE_VERSION\"" "$TARGET/node_modules/axe-core/package.json"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-axe: warning: npm is missing; the accessibility audit tests will fail" >&2
    exit 0
fi
mkdir -p "$TARGET"
npm install --silent --no-audit --no-fund --prefix "$TARGET" "axe-core@$AXE_VERSION" >/dev/null
echo "ensure-axe: installed axe-core $AXE_VERSION in $TARGET"
