# kb: two commands. `make run` serves the app with the seed stories; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: setup run test bench clean assets

setup: $(VENV)/.installed assets

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

assets: node_modules/.installed kb/static/build/kb.css

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

kb/static/build/kb.css: node_modules/.installed assets/kb.scss scripts/build-assets.sh
	bash scripts/build-assets.sh

run: setup
	$(BIN)/kb init
	$(BIN)/kb seed
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/search.py
	$(BIN)/python bench/relevance.py ../shared/eval/cranfield

clean:
	rm -rf $(VENV) node_modules kb/static/build kb/static/govuk
