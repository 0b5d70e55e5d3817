#!/usr/bin/env bash
# The whole suite: time-skipping and local dev server on SQLite, then time-skipping on
# PostgreSQL when it answers (required when REQUIRE_POSTGRES=1, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
POSTGRES_TEST_URL=${POSTGRES_TEST_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}

echo "== ruff (unused and undefined names, import order) and ruff format --check"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
echo "== import contracts (lint-imports: the layers of docs/architecture.md)"
"$(dirname "$PY")/lint-imports"
echo "== types (mypy: strict for workflows/ and model/, [tool.mypy] in pyproject.toml)"
"$PY" -m mypy
echo "== time-skipping test server, SQLite records"
env -u DATABASE_URL "$PY" -m pytest -q --workflow-environment time-skipping "$@"
echo "== local dev server, SQLite records"
env -u DATABASE_URL "$PY" -m pytest -q --workflow-environment local "$@"

if "$PY" - "$POSTGRES_TEST_URL" <<'PYEOF'
import asyncio, sys
import asyncpg
async def main(url):
    conn = await asyncio.wait_for(asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql")), 5)
    await conn.close()
try:
    asyncio.run(main(sys.argv[1]))
except Exception as err:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {err}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "== time-skipping test server, PostgreSQL records"
  # The fault tests ran in the first pass (their outage test uses PostgreSQL already).
  DATABASE_URL="$POSTGRES_TEST_URL" "$PY" -m pytest -q --workflow-environment time-skipping --ignore=tests/faults "$@"
elif [ "${REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but not reachable" >&2
  exit 1
else
  echo "== PostgreSQL pass skipped (not reachable)"
fi
