# VOC Loop: every install step lives here, so a fresh machine needs only
# python3 (>= 3.11), make, and for the Kafka tests Java 17 + Maven.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export DO_NOT_TRACK := 1

.PHONY: install system-deps demo dashboard test test-fast bench lint clean

# Debian packages the report (PDF with Chinese text) and the browser tests need.
SYSTEM_PKGS := chromium chromium-driver poppler-utils fonts-noto-cjk

$(STAMP): pyproject.toml
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "VOC Loop needs Python >= 3.11; found " + sys.version.split()[0])'
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

system-deps:  ## chromium (dashboard tests, PDF), poppler (PDF checks), a CJK font; apt-get as root or via sudo.
	@missing=$$(for p in $(SYSTEM_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "VOC Loop needs the Debian packages:$$missing (install them as root)"; exit 1; fi; \
	  echo "installing Debian packages:" $$missing; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: install system-deps  ## Simulate, run the pipeline, build the marts, print the summary.
	$(VENV)/bin/voc demo

WAREHOUSE ?= .voc/demo/voc.duckdb
PORT ?= 8050
dashboard: install  ## The web dashboard on 127.0.0.1:$(PORT) over $(WAREHOUSE) (run `make demo` first).
	$(VENV)/bin/voc dashboard --warehouse $(WAREHOUSE) --port $(PORT)

# --durations lists the slowest steps in every CI log.
test: install system-deps  ## The whole suite, slow end-to-end and real-Kafka tests included.
	$(VENV)/bin/python -m pytest -q -n 2 --durations=25

test-fast: install system-deps  ## Skip the slow end-to-end tests.
	$(VENV)/bin/python -m pytest -q -m "not slow"

bench: install  ## Every benchmark in benchmarks/, one JSON line each.
	$(PY) benchmarks/run_all.py

lint: install
	$(VENV)/bin/ruff check pipelines dashboards tests benchmarks
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests

clean:
	rm -rf .voc dbt_project/target dbt_project/logs
