# VOC Loop: every install step lives here, so a fresh machine needs only
# python3 (>= 3.11), make, and for the Kafka tests Java 17 + Maven.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export DO_NOT_TRACK := 1

.PHONY: install demo test test-fast bench lint clean

$(STAMP): pyproject.toml
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "VOC Loop needs Python >= 3.11; found " + sys.version.split()[0])'
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install  ## Simulate, run the pipeline, build the marts, print the summary.
	$(VENV)/bin/voc demo

test: install  ## The whole suite, slow end-to-end and real-Kafka tests included.
	$(VENV)/bin/python -m pytest -q

test-fast: install  ## Skip the slow end-to-end tests.
	$(VENV)/bin/python -m pytest -q -m "not slow"

bench: install  ## Every benchmark in benchmarks/, one JSON line each.
	$(PY) benchmarks/run_all.py

lint: install
	$(VENV)/bin/ruff check pipelines tests benchmarks
	$(VENV)/bin/sqlfluff lint dbt_project/models

clean:
	rm -rf .voc dbt_project/target dbt_project/logs
