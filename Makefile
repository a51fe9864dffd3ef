# Evently: `make run` starts the app with demo data; `make test` runs the whole suite.
# Both create .venv and install what is missing; with no DATABASE_URL / REDIS_URL they start
# embedded Postgres and Redis (see evently/embedded.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install browser clean cluster cluster-tools

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

# The production shape on this machine: haproxy → 2 app nodes, PgBouncer → Postgres, Redis, one
# django-q2 cluster (docs/deployment.md). Demo data and the fake payment provider, like make run.
cluster: install cluster-tools
	$(BIN)/python -m evently.embedded cluster

# Debian's haproxy and pgbouncer for make cluster and its tests; docker-compose only to validate
# docker-compose.yml (`docker-compose config`; images cannot be pulled everywhere).
cluster-tools:
	@missing=""; for tool in haproxy pgbouncer docker-compose; do \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[evently] installing$$missing for make cluster"; \
	    (apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null)); \
	  else echo "[evently] missing:$$missing — install them (Debian: apt-get install$$missing)"; fi; fi

bench: install
	$(BIN)/python bench/hold_confirm.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
