# spm-agent developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check --no-input

.PHONY: setup demo test eval lint bench clean

setup: $(STAMP)

# Re-installs only when pyproject.toml changes, so repeated runs are fast and silent. pip is
# quiet, so say what the first (long) run does: two minutes of silence look like a hang.
$(STAMP): pyproject.toml
	@echo "Installing spm-agent and its dependencies into $(VENV) (about 2 minutes on a first run)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) install -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(BIN)/spm --version >/dev/null || { echo "Installing failed: see pip's messages above." >&2; exit 1; }
	@touch $(STAMP)
	@echo "Done."

demo: setup
	@$(BIN)/spm demo

test: setup
	@$(BIN)/python -m pytest -n 2

# The eval floors on every case (about 8 minutes on 2 cores; `make test` checks a fixed third of them).
eval: setup
	@$(BIN)/python -m pytest -n 2 -m eval_full tests/test_evals.py

# ruff (style), mypy (types), import-linter (the layering contracts in pyproject.toml).
lint: setup
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache

bench: setup
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
