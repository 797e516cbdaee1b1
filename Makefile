# The two commands: `make run` (the product: web on $PORT plus a Celery worker) and `make test` (the suite).
# Both create .venv from the pinned requirements on first use and honour PORT, DATABASE_URL, REDIS_URL, DATA_DIR.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run run-production test openapi bench soak migrate clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

run: $(VENV)/.runtime-installed
	./bin/run

# Production settings: SECRET_KEY required; use with DATABASE_URL (PostgreSQL) and REDIS_URL.
run-production: $(VENV)/.runtime-installed
	./bin/run --production

test: $(VENV)/.dev-installed
	./bin/test $(ARGS)

# Regenerate the committed OpenAPI schema (CI fails when docs/openapi.yaml differs from the code).
openapi: $(VENV)/.runtime-installed
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Benchmarks and the soak test (bench/README.md). They need wrk: `apt-get install wrk`.
bench: $(VENV)/.dev-installed
	@command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install wrk (or brew install wrk)"; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

soak: $(VENV)/.dev-installed
	$(BIN)/python bench/soak.py $(if $(DATABASE_URL),--database-url $(DATABASE_URL)) $(if $(REDIS_URL),--redis-url $(REDIS_URL)) $(SOAK_ARGS)

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

clean-venv:
	rm -rf $(VENV)
