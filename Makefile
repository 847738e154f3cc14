# Two set-up commands (see README): `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint clean bench-site bench-banner bench-logs bench-exports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# Serve the site with gunicorn on http://127.0.0.1:$(PORT) (embedded SQLite in ./instance unless
# DATABASE_URL says otherwise); the database is created or migrated first.
run: $(VENV)/.runtime
	$(BIN)/flask --app wsgi db upgrade
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# axe-core for the browser tests (package-lock.json pins it).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Lint, then the whole suite (unit, HTTP, browser, log job).
test: $(VENV)/.dev node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Load on real gunicorn with wrk: liveness floor, page render, recording a decision.
bench-site: $(VENV)/.runtime
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk >/dev/null; } \
		|| { echo "bench-site needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python bench/site.py

# Bytes of banner.js + banner.css as served (raw, gzip, brotli) and with the de+en texts, vs peers.
bench-banner: $(VENV)/.dev
	$(BIN)/python bench/banner.py

# Log anonymiser: `pipe` vs Anonip 1.1.0 (temporary venv from PyPI) vs a plain Python copy,
# on a generated 1,000,000-line nginx combined log (lines/s, MB/s, peak memory).
bench-logs: $(VENV)/.runtime
	$(BIN)/python bench/logs.py

# Receipt export: peak RSS of the streamed CLI export vs a materialised list, 10k and 100k
# receipts in a temporary SQLite store (min of 3 runs each).
bench-exports: $(VENV)/.runtime
	$(BIN)/python bench/exports.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache bench-out node_modules
