#!/usr/bin/env bash
# Debian's Chromium for the web application's browser tests (tests/web/), driven by Playwright for
# Python with executable_path=/usr/bin/chromium: Playwright never downloads a browser of its own.
# Installs only when /usr/bin/chromium is missing (apt-get, as root, as on CI).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
