# Quick start: `make demo`, then `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test drills lint install clean bench toolkit

$(BIN)/python:
	@echo "== Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

# The first install takes a few minutes: say what is happening, and let pip list what
# it collects rather than stay quiet.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "== Installing auditbot's Python packages into $(VENV) (first run only, a few minutes)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	@echo "== Installed into $(VENV)"
	touch $(STAMP)

install: $(STAMP)

# make demo AS=moderator: be the moderator (or iro, qa_manager, ...) in the Agents Playground;
# KEEP=1: carry on with the last run's demo data instead of loading the story afresh.
demo: $(STAMP)
	$(BIN)/auditbot demo$(if $(AS), --as $(AS))$(if $(KEEP), --keep)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# The fault drills at full size (kills, Graph fault storm, SharePoint outage, races,
# two instances); `make test` runs the same drills small.
drills: $(STAMP)
	AUDITBOT_DRILL_FULL=1 $(BIN)/python -m pytest -m drill -s $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The Agents Toolkit project: installs the Toolkit CLI (npm) into .venv on first use, then
# checks m365agents.yml, builds the Teams app package and validates it with the CLI and the
# official schema (tests/test_toolkit.py), and parses and checks infra/ (tests/test_infra.py).
toolkit: $(STAMP)
	$(BIN)/python -m pytest tests/test_toolkit.py tests/test_infra.py -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
