# IMS Cadence developer tasks. Only python3 and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# The workers' shared metric files (emptied when gunicorn starts); the scheduler's own /metrics
METRICS_DIR ?= $(CURDIR)/instance/prometheus
SCHEDULER_METRICS_PORT ?= 9464

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

# The API and the staff pages under gunicorn plus the one scheduler process (leader election:
# see README). The access line is the app's (route templates, never query strings); gunicorn's
# stays off. Served on plain http on 127.0.0.1, so the session cookie may drop Secure there.
run: install
	$(BIN)/flask --app wsgi db upgrade
	SCHEDULER_METRICS_PORT=$(SCHEDULER_METRICS_PORT) $(BIN)/python -m scheduler & sched=$$!; \
	trap 'kill $$sched 2>/dev/null; wait $$sched' EXIT INT TERM; \
	WEB_PLAIN_HTTP=$${WEB_PLAIN_HTTP:-true} PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) $(BIN)/gunicorn -c deploy/gunicorn.conf.py \
	  --bind 127.0.0.1:$(PORT) --workers 2 wsgi:app

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
