# Set-up is two commands: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit fast completions docs bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lava demo

# The whole suite: what .ci/run runs.
test: $(STAMP) lint typecheck unit

# The inner loop (under 30 s): lint, types and the tests not marked slow (no process
# started, none over a second; tests/helpers/speed.py keeps the marker honest), run side
# by side, each one's output printed whole when it ends.
check: $(STAMP)
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck fast

lint: $(STAMP)
	$(BIN)/ruff check lava_cli tests scripts
	$(BIN)/ruff format --check lava_cli tests scripts
	$(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider

# PYTHONDONTWRITEBYTECODE is emptied for this run: pytest keeps its assertion-rewritten
# test modules as bytecode in __pycache__ (git-ignored); without it every run rewrites
# them again (~2 s of the 30).
fast: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -p no:cacheprovider -m "not slow" -n 2

completions: $(STAMP)
	$(BIN)/python scripts/gen_completions.py

docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

# The fuzzers and the canary hunt with 10x the examples `make test` runs, unseeded.
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz_report.py --scale $${LAVA_FUZZ_EXAMPLES:-10}

# Both benchmarks run and write their README block; the exit status says whether
# every budget held (a start-up figure over budget must not hide the gateway's).
bench: $(STAMP)
	$(BIN)/python scripts/bench_startup.py --write-readme; startup=$$?; \
	$(BIN)/python scripts/bench_gateway.py --write-readme && exit $$startup

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
