# IMS Cadence developer tasks. Only python3 and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install test lint run clean

install: $(STAMP)

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/pytest -q

# ruff, then mypy (strict on rules/, the default elsewhere; see [tool.mypy] in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The API under gunicorn plus the one scheduler process (leader election: see README).
run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/python -m scheduler & sched=$$!; \
	trap 'kill $$sched 2>/dev/null; wait $$sched' EXIT INT TERM; \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - wsgi:app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
