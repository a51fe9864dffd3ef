# Evently: `make run` starts the app with demo data; `make test` runs the whole suite.
# Both create .venv and install what is missing; with no DATABASE_URL / REDIS_URL they start
# embedded Postgres and Redis (see evently/embedded.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install browser clean bench bench-search

run: install
	$(BIN)/python -m evently.embedded run

test: install browser
	$(BIN)/python -m evently.embedded exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Browser tests drive Debian's Chromium (Playwright's own download does not work everywhere).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[evently] installing chromium for the browser tests"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); \
	  else echo "[evently] chromium not found: browser tests will be skipped"; fi; }

bench: install
	$(BIN)/python bench/hold_confirm.py $(BENCH_ARGS)

# Search on a 100,000-event catalogue (its own database, built on first use): docs/performance.md, "Search".
bench-search: install
	$(BIN)/python -m evently.embedded exec -- $(BIN)/python bench/search.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
