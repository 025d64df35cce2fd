# fieldcheck: `make run` (demo service) and `make test` (SQLite + PostgreSQL suites) on a fresh clone.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# make soak: 100,000 submissions through gunicorn; the database's public schema is WIPED.
SOAK_URL ?= $(PG_TEST_URL)
SOAK_COUNT ?= 100000
FLASK := $(BIN)/flask --app app
# Message catalogues (fieldcheck.i18n): .po files are in git, the compiled .mo files are not.
LOCALES_DIR := fieldcheck/translations
MO := $(patsubst %.po,%.mo,$(wildcard $(LOCALES_DIR)/*/LC_MESSAGES/messages.po))

.PHONY: help venv setup run demo-banner test test-sqlite test-pg lint bench scheduler clean \
	translations compile-translations browser pg-client java soak

help:
	@echo "make run    - set up, migrate, seed demo data and serve on http://$(HOST):$(PORT)"
	@echo "make test   - lint, then the test suite on SQLite and (if reachable) PostgreSQL"
	@echo "make bench  - benchmarks, with ratios against a baseline measured in the same run"
	@echo "make soak   - 100,000 submissions through gunicorn on PostgreSQL (SOAK_URL, default"
	@echo "              PG_TEST_URL: its schema is dropped and recreated); not part of make test"
	@echo "make translations - extract messages from the code and update the .po files"

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PY)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

# A .po file newer than its .mo is compiled again (make run / make test on a fresh clone too).
$(LOCALES_DIR)/%/LC_MESSAGES/messages.mo: $(LOCALES_DIR)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel -q compile -l $* -i $< -o $@

compile-translations: $(MO)

# For developers after adding or changing a message: new msgids get an empty msgstr in id (the
# test suite fails until it is translated), removed ones are dropped.
translations: venv
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --no-location --sort-output \
		--project fieldcheck -o $(LOCALES_DIR)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) \
		--ignore-obsolete --no-fuzzy-matching --ignore-pot-creation-date
	$(MAKE) --no-print-directory compile-translations

setup: venv compile-translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo > /dev/null

run: setup
	@$(BIN)/python scripts/demo_banner.py --url http://$(HOST):$(PORT)
	$(BIN)/python scripts/run_all.py -c deploy/gunicorn.conf.py --workers $(WORKERS) --threads 4 --bind $(HOST):$(PORT) \
		--graceful-timeout 20 'app:create_app()'

scheduler: setup
	$(FLASK) scheduler

# ruff, then the layer order (.importlinter; docs/architecture.md): a back-edge fails the build.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test-sqlite: venv compile-translations
	$(BIN)/pytest -q

# Runs the same suite on PostgreSQL when one answers at PG_TEST_URL; says so when skipped.
# With FIELDCHECK_REQUIRE_PG=1 (as .ci/run sets) an unreachable server fails the run.
test-pg: venv compile-translations
	@if $(BIN)/python scripts/pg_ready.py "$(PG_TEST_URL)"; then \
		echo "== PostgreSQL suite ($(PG_TEST_URL)) =="; \
		FIELDCHECK_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -q; \
	elif [ -n "$$FIELDCHECK_REQUIRE_PG" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable and FIELDCHECK_REQUIRE_PG is set"; exit 1; \
	else \
		echo "== PostgreSQL suite SKIPPED: nothing answers at $(PG_TEST_URL) =="; \
	fi

# Debian's chromium + chromium-driver for the browser tests (tests/web), installed when missing.
browser:
	@scripts/ensure_browser.sh

# pg_dump/pg_restore for the backup and restore-drill tests (tests/deploy), installed when missing.
pg-client:
	@scripts/ensure_pg_client.sh

# Java for ODK Validate (the XForm tests, tests/openrosa), installed when missing.
java:
	@scripts/ensure_java.sh

test: lint browser pg-client java
	@echo "== SQLite suite =="
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-pg

# On SQLite, and on PostgreSQL too when one answers at PG_TEST_URL (or FIELDCHECK_BENCH_DATABASE_URL
# names one): its public schema is dropped and recreated, so point it at a scratch database.
bench: venv compile-translations
	@if [ -z "$$FIELDCHECK_BENCH_DATABASE_URL" ] && $(BIN)/python scripts/pg_ready.py "$(PG_TEST_URL)"; then \
		export FIELDCHECK_BENCH_DATABASE_URL="$(PG_TEST_URL)"; \
	fi; \
	$(BIN)/python -m bench $(BENCH_ARGS)

# Outside `make test` (minutes to an hour): exact stored count, no 5xx, flat worker memory.
soak: venv compile-translations
	$(BIN)/python -m bench.soak --url "$(SOAK_URL)" --count $(SOAK_COUNT)

# Zoning at national scale (issue 14): 1M inspections built once into the kept PostgreSQL
# database bench_zoning_1m (FIELDCHECK_BENCH_SCALE_DATABASE_URL to use another), then reused.
.PHONY: bench-zoning-national
bench-zoning-national: venv compile-translations
	$(BIN)/python -m bench zoning --scale 1000000

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-output
