# Everything builds from the lock file on a fresh machine: `make demo`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# `make test AIRFLOW_VERSION=3.2.2`: the same suite in a separate clean venv (.venv-3.2.2): the locked
# environment, then `uv pip install apache-airflow==3.2.2` over it (no constraints file), which swaps
# the Airflow distributions and moves only what they require. CI runs each supported version this
# way. Without it: the locked .venv (Airflow as pinned in uv.lock).
AIRFLOW_VERSION ?=
# Where a release cannot run with a dependency newer than it caps (its constraints file pinned it):
# 3.2.2's execution API breaks with svcs 26 (every task of `dags test` fails).
AIRFLOW_PINS_3.2.2 := "svcs<26"
ifeq ($(AIRFLOW_VERSION),)
VENV := .venv
else
VENV := .venv-$(AIRFLOW_VERSION)
endif
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test e2e e2e-celery bench lint sandbox standalone clean mutate

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==0.13.9"

$(VENV)/.synced: pyproject.toml uv.lock Makefile | $(UV)
ifneq ($(AIRFLOW_VERSION),)
	rm -rf $(VENV)
endif
	$(UV) sync --locked --extra test --python $(PYTHON)
ifneq ($(AIRFLOW_VERSION),)
	$(UV) pip install --python $(VENV)/bin/python "apache-airflow==$(AIRFLOW_VERSION)" $(AIRFLOW_PINS_$(AIRFLOW_VERSION))
endif
	touch $@

install: $(VENV)/.synced

demo: install  ## the three example DAGs end to end on SQLite and the sandbox
	$(VENV)/bin/python scripts/demo.py

test: install  ## the whole suite (unit, sandbox contract, operators, DAGs, reliability)
	$(VENV)/bin/pytest

# Debian's Chromium for the browser check (never a browser Playwright downloads): installed here when
# missing (CI runs as root with no stdin; elsewhere apt-get needs root or sudo).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

e2e: install $(CHROMIUM)  ## the example DAGs under a real `airflow standalone`, and the browser check
	$(UV) sync --locked --extra test --extra browser --python $(PYTHON)
	$(VENV)/bin/pytest -m e2e tests/e2e

# `make e2e-celery BATCH=10`: a smaller batch DAG (default 40 uploads and 40 Papyrs pages).
BATCH ?= 40

e2e-celery: install  ## CeleryExecutor on PostgreSQL and Redis, two workers as two hosts, a batch DAG
	$(UV) sync --locked --extra test --extra celery --python $(PYTHON)
	$(VENV)/bin/python scripts/e2e_celery.py --batch $(BATCH)

bench: install  ## benchmarks against the naive alternative; writes benchmarks/results.json
	$(VENV)/bin/python -m benchmarks

lint: install  ## ruff (lint and format check), and mypy on the package
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

sandbox: install  ## serve the four APIs on :8765 and print the connections
	$(VENV)/bin/flipbook-sandbox --port 8765

standalone: install  ## the example DAGs in the Airflow UI (scheduler, triggerer) against the sandbox
	$(VENV)/bin/python scripts/standalone.py

clean:
	rm -rf .venv .venv-*/ $(TOOLS) .demo .e2e

# Mutation testing of the guarantee modules: mutmut 3 rewrites each function, runs only the tests that
# reach it, and counts the mutants no test catches. scripts/mutate.py names the modules and, for each,
# the tests that guard it; it runs one module at a time in its own copy (.mutate/), each bounded by
# MUTATE_MODULE_TIMEOUT s, at the lowest priority. `make mutate MODULES=hooks/base.py` runs one. Not in CI.
MUTMUT_ENV := $(UV) run --no-sync --with "mutmut==3.8.1"
mutate: install
	nice -n 19 $(MUTMUT_ENV) python scripts/mutate.py $(MODULES)
