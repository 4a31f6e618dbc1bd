# Two commands for a newcomer: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The national list, when ../shared is beside the checkout: it adds the territories not received.
REFERENCE := $(wildcard ../shared/data/pvd-communes-2021.csv)

.PHONY: demo test lint examples bench clean screenshot

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est nécessaire.")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pvd-report consolidate workbooks --output-dir outputs $(if $(REFERENCE),--reference $(REFERENCE))

test: $(STAMP)
	$(BIN)/python -m pytest

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
