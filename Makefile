# The README's commands. `make run`: install and serve the demo on SQLite at http://127.0.0.1:5000.
# `make test`: install everything and run every test, on SQLite and then on PostgreSQL.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Debian packages the tests use: a real browser, a real PostgreSQL and Redis, a CJK font for PDFs.
SYSTEM_PACKAGES := chromium postgresql redis-server fonts-wqy-microhei poppler-utils

.PHONY: install run test test-sqlite test-postgresql system-deps translations lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/pybabel compile --use-fuzzy -d qmevents/translations >/dev/null
	@command -v npm >/dev/null || { echo "npm is needed for the door scanner's decoder: apt-get install nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	$(BIN)/python scripts/vendor.py

run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  echo "installing$$missing"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: install system-deps test-sqlite test-postgresql

test-sqlite:
	$(BIN)/python -m pytest

test-postgresql:
	$(BIN)/python -m pytest --db=postgresql

translations:
	$(BIN)/pybabel extract -F babel.cfg -k _l -o qmevents/translations/messages.pot . >/dev/null
	$(BIN)/pybabel update -i qmevents/translations/messages.pot -d qmevents/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d qmevents/translations

lint:
	$(BIN)/ruff check qmevents tests benchmarks

# Every figure of the README's Performance section, both databases, one benchmark after another
# (about 20 minutes). Each starts once the 1-minute load is under 1 (waiting up to 5 minutes: the
# previous one loads the machine); `uptime` is printed before and after. A benchmark that finds a
# broken invariant (an oversold place, a ticket let in twice, a 5xx) exits 1; the others still
# run, and `make bench` fails at the end.
BENCHMARKS := pages.py opening.py "checkin.py --rounds 2 --seconds 30" \
	"registration_surge.py --clients 32 --requests 2000" "mixed.py --workers 4 --seconds 30" \
	hot_paths.py
bench: install
	@uptime; failed=0; for b in $(BENCHMARKS); do \
	  for i in $$(seq 60); do awk '{exit !($$1 < 1)}' /proc/loadavg && break; sleep 5; done; \
	  echo "== benchmarks/$$b --db both"; uptime; \
	  $(BIN)/python benchmarks/$$b --db both || failed=1; uptime; done; exit $$failed
