# Two commands matter: `make chat` and `make test`. Each sets itself up (a .venv with the project in it).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-local-llm
PORT   ?= 8501

.PHONY: install chat test test-fast lint typecheck bench bench-eval fit-selector local-llm browser clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "newsdesk needs Python 3.11 or newer"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing newsdesk into $(VENV) (first run only; log in $(VENV)/install.log)"
	@$(PY) -m pip install -q --upgrade pip >$(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@$(PY) -m pip install -q -e '.[dev]' >>$(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	$(VENV)/bin/newsdesk chat --port $(PORT)

# The optional local LLM (llama-cpp-python builds from source once, ~5 min; pip caches the wheel).
$(LLM_STAMP): $(STAMP)
	@echo "building the local-llm extra (llama-cpp-python from source: about 5 minutes, once)"
	@CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF" $(PY) -m pip install -q -e '.[dev,local-llm]' \
		>>$(VENV)/install.log 2>&1 || (tail -50 $(VENV)/install.log; exit 1)
	@touch $(LLM_STAMP)

local-llm: $(LLM_STAMP)

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)  # ruff + mypy + the import layers (pyproject.toml [tool.importlinter])
	$(VENV)/bin/ruff check rag ingest ui eval tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) -m eval.bench

bench-eval: $(STAMP)
	$(PY) -m eval.benchmark

# The offline answerer's sentence selector, refitted on RealTime QA 2023 (never on the 2022 benchmark).
SELECTOR_STORE ?= .newsdesk/rtqa2023-gold
fit-selector: $(STAMP)
	NEWSDESK_DATA_DIR=$(SELECTOR_STORE) $(VENV)/bin/newsdesk ingest ../shared/data/realtimeqa-2023/articles-gold.jsonl --quiet
	$(PY) -m eval.fit_selector --store $(SELECTOR_STORE)

clean:
	rm -rf $(VENV) .newsdesk .pytest_cache .mypy_cache .ruff_cache
