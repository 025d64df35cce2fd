#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through ChromeDriver (tests/web). Install both when
# they are missing and this machine can (root + apt-get); otherwise say why: the tests then skip
# with that reason, unless FIELDCHECK_REQUIRE_BROWSER is set (CI), where they fail.
set -u
CHROMIUM=${FIELDCHECK_TEST_CHROMIUM:-/usr/bin/chromium}
DRIVER=${FIELDCHECK_TEST_CHROMEDRIVER:-/usr/bin/chromedriver}
if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "== browser tests: $CHROMIUM or $DRIVER is missing and this user cannot apt-get install"
  echo "   chromium chromium-driver; the browser tests will be skipped =="
  exit 0
fi
echo "== installing Debian's chromium and chromium-driver for the browser tests =="
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
    || echo "== could not install chromium; the browser tests will be skipped =="
fi
exit 0
