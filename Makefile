# The two commands of the README: `make run` and `make test`.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup run cluster train test lint bench evaluate

setup:
	@bash scripts/setup.sh

run: setup
	$(PY) -m bot run

cluster: setup
	@bash scripts/debian_packages.sh haproxy:haproxy
	$(PY) -m bot cluster

train: setup
	$(PY) -m bot train

test: setup
	@bash scripts/test.sh

lint: setup
	$(PY) -m ruff check .

evaluate: train
	$(PY) -m scripts.evaluate_nlu

bench: train
	$(PY) -m bench.run
