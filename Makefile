# `make serve` and `make test` each set everything up on a fresh machine: .venv, pinned deps, model weights.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export MODELS_DIR ?= $(CURDIR)/var/models

.PHONY: setup models serve test clean

$(VENV)/.deps: requirements.txt requirements-api.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.deps models

models: $(VENV)/.deps
	$(PY) -m worker models fetch

# API (gunicorn, PORT default 5000) + Celery workers; REDIS_URL for Redis, else the embedded default under ./var.
serve: setup
	$(PY) -m worker models verify
	exec $(PY) -m worker.serve

test: setup
	$(PY) -m pytest

clean:
	rm -rf $(VENV) var
