#!/usr/bin/env bash
# Make sure Debian's PostgreSQL server binaries are installed for the database tests, which start
# a throwaway cluster (initdb + pg_ctl in a temporary folder, as a non-root user) and stop it.
# Does nothing when initdb is present; installs the `postgresql` package with apt-get when running
# as root; otherwise only warns (the PostgreSQL tests then skip).
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: initdb missing; installing the Debian postgresql package with apt-get"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    # The package's own cluster is not needed: the tests make theirs.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >/dev/null
    exit 0
fi

echo "ensure-postgres: warning: PostgreSQL's initdb is missing and cannot be installed here" \
     "(needs root and apt-get); the PostgreSQL tests will skip" >&2
