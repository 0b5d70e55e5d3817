#!/usr/bin/env bash
# A screenshot of a dossier decoded in Temporal's Web UI (docs/codec.md), beside a running `make run`.
#   scripts/screenshot_web_ui.sh CODE [OUT.png]
# Installs Debian's chromium (apt-get, as root) and Playwright (the `screenshot` extra); no browser
# is downloaded by Playwright itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
"$PY" -m pip install --quiet -e '.[screenshot]'
PYTHONPATH=. "$PY" scripts/screenshot_web_ui.py "$1" --out "${2:-docs/codec-web-ui.png}"
