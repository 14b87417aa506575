# On the Record: two commands set everything up. `make run` starts the app, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup setup-test setup-bench run test index eval train clean

setup: $(STAMP)
setup-test: $(TEST_STAMP)
setup-bench: $(BENCH_STAMP)

# The product only: what `make run` needs. The test and bench tools are extras.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	$(PY) app.py

index: setup
	$(PY) -m assistant index

eval: setup
	$(PY) -m assistant eval ../shared/gold/dev.jsonl

# Refit the answer model in assistant/model/ from ../shared (the cross-encoder takes most of the time).
train: setup
	$(PY) -m assistant train

test: $(TEST_STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf index/chroma .pytest_cache
