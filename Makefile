# hltv-scraper: every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= data/demo

.PHONY: install browser postgres demo test test-fast bench scrapyd clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

demo: install
	$(BIN)/python tools/demo.py --workdir $(DEMO_DIR)

# Debian's Chromium, which auto mode (the default) opens at the first challenge, and its tests
# (patchright drives it: no browser is downloaded), and Xvfb, the virtual display its window
# needs on a server.
browser:
	command -v chromium >/dev/null && command -v Xvfb >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium xvfb)

# Debian's PostgreSQL server binaries: the suite starts its own throwaway server with them.
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)

# Both cores: most tests wait on servers, browsers and subprocesses, not on the CPU.
test: install browser postgres
	$(BIN)/ruff check hltv_scraper tests tools
	$(BIN)/python -m pytest -q -n 2

test-fast: install postgres
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

bench: install
	$(BIN)/python tools/bench.py

# scrapyd on 127.0.0.1:6800 with basic auth (SCRAPYD_USERNAME / SCRAPYD_PASSWORD from the
# environment), the project deployed to it. Stop it with deploy/scrapyd.sh stop.
scrapyd: install
	@VENV=$(VENV) deploy/scrapyd.sh start

# Removes what the build makes. Never data/: it holds the database and the page archive.
clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
