# Two set-up commands (see README): `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint clean bench-site bench-site-instructions bench-banner bench-logs bench-exports assets screenshots \
	translations-extract translations-update translations-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The project itself is installed editable on top of the pins (--no-deps: the pins win), which
# also builds the C masking core (privacy/_core*.so) in place with the system compiler.
$(VENV)/.runtime: requirements.txt pyproject.toml setup.py $(wildcard privacy/*.c) | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt pyproject.toml setup.py $(wildcard privacy/*.c) \
		| $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
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

# The same cases counted in CPU instructions per request (callgrind: within about 1.5 % run to run,
# whatever else the machine does), each beside /healthz of the same run.
bench-site-instructions: $(VENV)/.runtime
	@command -v valgrind >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q valgrind >/dev/null; } \
		|| { echo "bench-site-instructions needs valgrind (apt-get install valgrind)"; exit 1; }
	$(BIN)/python bench/site_instructions.py

# What a first visit loads for the banner (JS + CSS + inline config), captured in Chromium, vs peers.
bench-banner: $(VENV)/.dev
	$(BIN)/python bench/banner.py

# Log anonymiser on a generated 1,000,000-line nginx combined log, best of 3, in one run: cat,
# a Python line copy, Anonip 1.1.0 (temporary venv from PyPI), pipe, pipe --keep-user-agent,
# the pure-Python core, anonymise (1 and 4 gzip files), scan (lines/s, peak RSS, x Anonip).
bench-logs: $(VENV)/.runtime
	$(BIN)/python bench/logs.py

# The banner's .min.js/.min.css copies that pages load (sources stay readable beside them).
assets: $(VENV)/.dev
	$(BIN)/python -m website.assets

# PNGs of each layout, light and dark, desktop and phone, into docs/screenshots/.
screenshots: $(VENV)/.dev
	$(BIN)/python -m tests.browser.screenshots

# Receipt export: peak RSS of the streamed CLI export vs a materialised list, 10k and 100k
# receipts in a temporary SQLite store (min of 3 runs each).
bench-exports: $(VENV)/.runtime
	$(BIN)/python bench/exports.py

# Translations (docs/translations.md). Two gettext domains: "messages" (code and templates,
# babel.cfg) and "catalog" (the consent catalog's texts, babel-catalog.cfg). The compiled .mo
# files are committed, like the banner's .min copies, so a fresh clone, `pip install` and
# `make run` need no build step; tests/site/test_translations.py fails if any is stale.
TRANSLATIONS := website/translations
PYBABEL := $(BIN)/pybabel
translations-extract: $(VENV)/.dev
	$(PYBABEL) -q extract -F babel.cfg --sort-by-file --no-wrap \
		--project website --copyright-holder "the website authors" \
		-o $(TRANSLATIONS)/messages.pot .
	$(PYBABEL) -q extract -F babel-catalog.cfg --sort-by-file --no-wrap \
		--project website --copyright-holder "the website authors" \
		-o $(TRANSLATIONS)/catalog.pot .

# Merge new and changed texts into every language's .po (new ones come in untranslated,
# changed ones fuzzy: translate them, then compile). A language just added to
# website.i18n.LANGUAGES gets its .po files here.
translations-update: translations-extract
	for lang in $$($(BIN)/python -c 'from website.i18n import LANGUAGES; print(*LANGUAGES)'); do \
		for domain in messages catalog; do \
			$(PYBABEL) -q update -D $$domain -i $(TRANSLATIONS)/$$domain.pot -d $(TRANSLATIONS) \
				-l $$lang --no-wrap --ignore-obsolete --init-missing || exit 1; \
		done; \
	done

translations-compile: $(VENV)/.dev
	for domain in messages catalog; do \
		$(PYBABEL) -q compile -D $$domain -d $(TRANSLATIONS) --statistics || exit 1; \
	done

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache bench-out node_modules build privacy/_core*.so
