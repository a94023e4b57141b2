# Two commands matter: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= qrstudio.toml

.PHONY: run test install install-test bench dist lint clean

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

## Install with the test extras and run every test.
test: install-test
	$(PY) -m pytest

lint: install-test
	$(VENV)/bin/ruff check .

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
