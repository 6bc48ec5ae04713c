# Two commands: `make run` and `make test`. Each sets itself up from nothing (venv + pinned deps).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv dev-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.deps

venv: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

## make run: start the hub (gunicorn, one gevent worker) on HOST:PORT (default 127.0.0.1:3000), SQLite in ./hub.db
run: $(VENV)/.deps
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## make test: the linter (ruff, configured in pyproject.toml), then every test (unit, API, integration
## with real gunicorn; browser/nginx when available)
test: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: the benchmarks under bench/ (each prints its figures and a ratio to a baseline)
bench: $(VENV)/.dev-deps
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
