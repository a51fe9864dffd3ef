# Evently: `make run` starts the app with demo data; `make test` runs the whole suite.
# Both create .venv and install what is missing; with no DATABASE_URL / REDIS_URL they start
# embedded Postgres and Redis (see evently/embedded.py).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install browser wrk clean bench bench-scaling bench-flat bench-viewers bench-layout bench-checkin \
	cluster cluster-tools \
        bench-search bench-trigger

run: install
	$(BIN)/python -m evently.embedded run

# lint-imports first: a new import across the app layers (pyproject.toml [tool.importlinter]) fails the run.
# Fast password hashing for the suite's many users (evently/settings.py, local runs only).
test: install browser wrk cluster-tools
	$(BIN)/lint-imports --no-cache
	EVENTLY_TEST_FAST_PASSWORDS=1 $(BIN)/python -m evently.embedded exec -- $(BIN)/python -m pytest $(PYTEST_ARGS)

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

# The load generator of the benchmarks (and of their smoke test): Debian's wrk.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[evently] installing wrk for the benchmarks"; \
	    (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)); \
	  else echo "[evently] wrk not found: benchmarks need it (apt-get install wrk)"; fi; }

# Benchmarks (docs/performance.md, "How to benchmark"). Each starts the app like `make run` on BENCH_PORT
# (default 8100) with its own database in var/bench and stops it afterwards, or uses a running app:
# `make bench BENCH_URL=http://127.0.0.1:8000`. More options: BENCH_ARGS="--help". Results: bench/results/.
BENCH_ARGS ?=
BENCH_URL ?=
BENCH_RUN = $(BIN)/python -m
BENCH_OPTS = $(if $(BENCH_URL),--url $(BENCH_URL)) $(BENCH_ARGS)

bench: install wrk          ## the sale: 32 new buyers for 20 s → bookings/s, latency, CPU per booking, audit
	$(BENCH_RUN) bench.sale $(BENCH_OPTS)

bench-scaling: install wrk  ## bookings/s at 1, 4, 16, 32, 64 buyers and at 1–4 web processes
	$(BENCH_RUN) bench.scaling $(BENCH_OPTS)

bench-flat: install wrk     ## flat cost: sell out a fresh 50,000-seat stadium, first vs last 10%
	$(BENCH_RUN) bench.sale --sellout $(BENCH_OPTS)

bench-viewers: install wrk  ## live seat-map viewers (websockets) during the sale
	$(BENCH_RUN) bench.viewers $(BENCH_OPTS)

bench-layout: install       ## the whole 50,000-seat layout: time and bytes, gzip, ETag/304
	$(BENCH_RUN) bench.layout $(BENCH_OPTS)

bench-checkin: install      ## door check-in: scans by 1, 4, 16 door devices
	$(BENCH_RUN) bench.checkin_scan $(BENCH_OPTS)

bench-search: install       ## search: typical queries on a 100,000-event catalogue (its own database)
	$(BENCH_RUN) bench.search $(BENCH_ARGS)

bench-trigger: install      ## what search's seat-count trigger adds to a booking's seat statements
	$(BENCH_RUN) bench.seat_trigger $(BENCH_ARGS)

# Reliability (docs/reliability.md): the fault-injection tests, and the invariant state machine run long
# (INVARIANT_EXAMPLES random operation sequences of INVARIANT_STEPS steps; make test runs 10 of 25).
INVARIANT_EXAMPLES ?= 500
INVARIANT_STEPS ?= 40
.PHONY: reliability soak-invariants
reliability: install
	$(BIN)/python -m evently.embedded exec -- $(BIN)/python -m pytest tests/reliability -q

soak-invariants: install
	INVARIANT_EXAMPLES=$(INVARIANT_EXAMPLES) INVARIANT_STEPS=$(INVARIANT_STEPS) $(BIN)/python -m evently.embedded exec -- \
	  $(BIN)/python -m pytest tests/reliability/test_invariants.py -q -s

# The soak ("Load without loss"): BENCH_ARGS="--minutes 10" of buyers, door scans and live viewers at a
# paced rate, then the audit (nothing lost or double-sold, nothing owed, memory flat); exits 2 if it fails.
.PHONY: soak
soak: install wrk
	$(BENCH_RUN) bench.soak $(BENCH_OPTS)

clean:
	rm -rf $(VENV) var
