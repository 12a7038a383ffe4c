PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
# One stamp per set of extras, so `make demo` does not pull in torch and `make test` installs it once.
APP := $(VENV)/.installed-app
TEST := $(VENV)/.installed-test

.PHONY: install demo lint test bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(APP): $(BIN)/python pyproject.toml
	$(PIP) -e .
	touch $(APP)

# The embeddings extra takes torch==2.13.0, a CPU build this machine kind keeps on disk; studio brings `langgraph dev`.
$(TEST): $(BIN)/python pyproject.toml
	$(PIP) -e '.[test,embeddings,studio]'
	touch $(APP) $(TEST)

# The web app's and the report's browser tests drive Debian's chromium through Playwright (no browser download). As root it is
# installed here; elsewhere, or where apt cannot reach it, those tests skip and say so in one line.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ; } || \
		echo "chromium not installed: the browser tests will skip"

install: $(APP)

demo: $(APP)
	$(BIN)/adpilot demo

lint: $(TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(TEST) browser
	$(BIN)/python -m pytest -n 2

bench: $(TEST)
	$(BIN)/python benchmarks/clustering.py
	$(BIN)/python benchmarks/negatives.py
	$(BIN)/python benchmarks/intent.py
	$(BIN)/python benchmarks/ad_groups.py
	$(BIN)/python benchmarks/creatives.py
	$(BIN)/python benchmarks/pacing.py
	$(BIN)/python benchmarks/creative_tests.py
	$(BIN)/python benchmarks/search_terms_scale.py
	$(BIN)/python benchmarks/malformed_imports.py
	$(BIN)/python benchmarks/races.py --rounds 3
	$(BIN)/python benchmarks/scheduled_audits.py
	$(BIN)/python benchmarks/web.py

clean:
	rm -rf $(VENV) .adpilot
