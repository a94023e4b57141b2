# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= qrstudio.toml

.PHONY: run test install install-test bench dist lint fmt clean system-packages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Start the appliance on ./data (SQLite) with qrstudio.toml; prints how to sign in.
run: install
	$(VENV)/bin/qrstudio-box run --config $(CONFIG)

## Install with the test extras, run the linters (as `make lint`), then every test.
## Installs python3-venv and Chromium (browser tests) when missing (apt-get, as root), or stops
## at once with the one command to run; .ci/system-packages lists every system package tests use.
test: system-packages lint
	$(PY) -m pytest

system-packages:
	.ci/system-packages venv chromium

## Run every benchmark (bench/, each bounded in time): tables on screen, JSON in bench/results/.
## Uses wrk when installed (.ci/system-packages wrk installs it), else a Python load generator, and says so.
## BENCH_ARGS="--quick" for a fast check, BENCH_ARGS="--only redirect,stats" for some.
bench: install
	$(PY) -m bench.run_all $(BENCH_ARGS)

## ruff check and ruff format --check; `make test` runs this first.
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Format the tree and apply ruff's safe fixes (import order and the like).
fmt: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) build dist test-artifacts .pytest_cache

## One self-contained executable: dist/qrstudio-box (PyInstaller one-file; see docs/operations.md).
## `make dist PY=/path/to/python DIST_INSTALL=` builds with an interpreter that already has PyInstaller.
DISTDIR ?= dist
DIST_INSTALL ?= $(VENV)/.installed-dist
dist: $(DIST_INSTALL)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath $(DISTDIR) \
		--workpath build/pyinstaller packaging/qrstudio-box.spec
	@echo "built $(DISTDIR)/qrstudio-box"

$(VENV)/.installed-dist: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dist]'
	touch $@
