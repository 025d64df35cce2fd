#!/usr/bin/env bash
# The backup and restore-drill tests (tests/deploy) run pg_dump and pg_restore. Install Debian's
# PostgreSQL client when they are missing and this machine can (root + apt-get); otherwise say
# why: those tests then skip with that reason.
set -u
if command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "== backup tests: pg_dump/pg_restore are missing and this user cannot apt-get install"
  echo "   postgresql-client; the backup and restore-drill tests will be skipped =="
  exit 0
fi
echo "== installing Debian's postgresql-client for the backup and restore-drill tests =="
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q postgresql-client >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q postgresql-client >/dev/null 2>&1 \
    || echo "== could not install postgresql-client; the backup tests will be skipped =="
fi
exit 0
