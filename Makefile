# Two commands for a newcomer: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs in one .venv: the demo needs only the package; the tests add the [dev] extra.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint examples bench clean screenshot

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est nécessaire.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt: the versions the suite last passed with (pip -c), for the demo and the tests alike.
$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	@touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(RUNTIME_STAMP) $(STAMP)

# The ANCT list of 2021 ships with the package: the demo names the 99 territories expected.
demo: $(RUNTIME_STAMP)
	$(BIN)/pvd-report consolidate workbooks --output-dir outputs

# -n auto: one pytest worker per core (pytest-xdist); each test file stays on one worker.
# --no-loadscope-reorder: files are handed out in the order tests/conftest.py gives (longest
# first), not by their number of tests, which left a long file of two tests for the end.
# Bytecode cached even where the environment forbids it (PYTHONDONTWRITEBYTECODE): otherwise every
# test worker rewrites every test module, and every `pvd-report` the tests start compiles the
# package again (some 15 s of CPU over the suite).
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check pvd_reporting tests benchmarks scripts
	$(BIN)/mypy

examples: $(STAMP)
	$(BIN)/python scripts/make_examples.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) outputs/* .pytest_cache .mypy_cache .ruff_cache

# The README's screenshot, made by the demo's browser test from the example workbooks.
screenshot: $(STAMP)
	PVD_SCREENSHOT=docs/tableau-de-bord.png $(BIN)/python -m pytest -q tests/test_demo.py -k chromium
	PVD_PRINT_IMAGES=docs $(BIN)/python -m pytest -q tests/test_print.py -k prints
