# `make serve` and `make test` each set everything up on a fresh machine: .venv, pinned deps, model weights.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export MODELS_DIR ?= $(CURDIR)/var/models

.PHONY: setup models serve test test-deps clean web web-if-node test-mobile

$(VENV)/.deps: requirements.txt requirements-api.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.deps models

models: $(VENV)/.deps
	$(PY) -m worker models fetch

# The phone app (mobile/, Expo): `npm ci` from the lockfile, and its web build in mobile/dist, which the API serves
# at /. Rebuilt only when the app's sources change. Never a downloaded browser: the e2e test uses Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
MOBILE_SRC := $(shell find mobile/App.tsx mobile/index.js mobile/app.json mobile/babel.config.js mobile/src -type f 2>/dev/null)

mobile/node_modules/.ok: mobile/package.json mobile/package-lock.json
	cd mobile && npm ci --no-audit --no-fund --loglevel=error
	touch $@

mobile/dist/index.html: mobile/node_modules/.ok $(MOBILE_SRC)
	cd mobile && CI=1 npx expo export --platform web --output-dir dist
	touch $@

web: mobile/dist/index.html

# `make serve` builds the web app when Node is there; without Node the API still runs (no app at /).
web-if-node:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory web; \
	else echo "npm not found: serving the API without the web app (install Node.js 20 for it)"; fi

# The app's unit/component tests (jest-expo); the browser e2e test is tests/e2e, run by pytest.
test-mobile: mobile/node_modules/.ok
	cd mobile && npx jest --ci

# API (gunicorn, PORT default 5000) + Celery workers; REDIS_URL for Redis, else the embedded default under ./var.
serve: setup web-if-node
	$(PY) -m worker models verify
	exec $(PY) -m worker.serve

# The system packages `make test` needs (`make serve` needs none): Debian's chromium (the browser e2e test; never a
# downloaded browser), redis-server (the integration tests start a private one), curl, docker-compose (validates the
# compose files). Missing ones are installed with apt-get when root; otherwise make stops at once naming the command.
CHROMIUM ?= /usr/bin/chromium
test-deps:
	@missing=""; \
	[ -x "$(CHROMIUM)" ] || missing="$$missing chromium"; \
	for cmd in redis-server curl docker-compose; do command -v $$cmd >/dev/null || missing="$$missing $$cmd"; done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make test needs these system packages:$$missing. Install them with:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y$$missing" >&2; exit 1; fi; \
	echo "installing$$missing with apt-get"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null

# CI=true: the tools above are there now, so a test that cannot find one fails instead of skipping.
test: test-deps setup web test-mobile
	CI=$${CI:-true} $(PY) -m pytest

# A small gallery from the sample images (../shared/images) into docs/gallery and the README's table; re-run it when
# an engine is added (bench/gallery.py names what it had to leave out).
.PHONY: gallery
gallery: setup
	$(PY) bench/gallery.py

clean:
	rm -rf $(VENV) var
