#!/usr/bin/env bash
# The OpenRosa tests run ODK Validate (the jar pyxform carries) on every generated XForm, and
# ODK Validate needs Java. Install Debian's headless JRE when java is missing and this machine can
# (root + apt-get); otherwise say why: those tests then skip with that reason, unless
# FIELDCHECK_REQUIRE_JAVA is set (CI), where they fail.
set -u
if command -v java >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "== XForm validation: java is missing and this user cannot apt-get install"
  echo "   default-jre-headless; the ODK Validate tests will be skipped =="
  exit 0
fi
echo "== installing Debian's default-jre-headless for ODK Validate (the XForm tests) =="
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q default-jre-headless >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q default-jre-headless >/dev/null 2>&1 \
    || echo "== could not install java; the ODK Validate tests will be skipped =="
fi
exit 0
