# The two commands of the README, and a few more for developers. Each creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up test bench load-bench clean

$(BIN)/cner: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' 'tox>=4.11'
	$(BIN)/pip install --quiet --no-deps azure-ai-textanalytics-authoring==1.0.0b1
	touch $@

## up: the offline stack until Ctrl-C (emulated cloud, sample model trained and exported, our container)
up: $(BIN)/cner
	$(BIN)/cner up

## test: unit tests, the conformance suite (process mode and Docker), lint and type checks, each in its own tox
## environment (after making sure Docker runs); conformance reports land in reports/conformance/
test: $(BIN)/cner
	./scripts/ensure-docker
	$(BIN)/tox run -e tests,conformance,lint,type

## bench: the engine, emulated-cloud, container, collector and job-lock benchmarks, each figure against its target
bench: $(BIN)/cner
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/cloud.py
	$(BIN)/python benchmarks/container.py
	$(BIN)/python benchmarks/collector.py
	$(BIN)/python benchmarks/job_lock.py

## load-bench: the load protocol of loadtests/RESULTS.md (about 16 minutes with its 10-minute soak)
load-bench: $(BIN)/cner
	./scripts/ensure-docker
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) .tox .cner
