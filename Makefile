# Two set-up commands on a fresh machine: `make run` and `make test`.
# Each creates the virtual environment from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-time-skipping test-local bench browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job on the embedded default: dev server (state under data/) + worker + HTTP API (:8000),
# SQLite records, and the demonstration of a one-stop day (demo/); Ctrl-C stops everything.
run: $(STAMP)
	$(PY) worker.py --demo

# Debian's Chromium for the browser tests (tests/web/), installed only when missing; Playwright
# uses it as it is and never downloads a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
browser:
	scripts/install-browser.sh

# The whole suite: time-skipping and local dev server (SQLite), then PostgreSQL if it answers.
test: $(STAMP) browser
	PY=$(PY) scripts/test.sh

test-time-skipping: $(STAMP)
	$(PY) -m pytest -q --workflow-environment time-skipping

test-local: $(STAMP)
	$(PY) -m pytest -q --workflow-environment local

bench: $(STAMP)
	$(PY) bench/intake_throughput.py

clean:
	rm -rf $(VENV) data .pytest_cache
