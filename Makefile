# Two commands matter: `make run` and `make test`. Both set up what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
DATA ?= ./var
TEST_DEBS := sip-tester baresip-core sipvicious chromium espeak-ng
BENCH_DEBS := $(TEST_DEBS) kamailio

.PHONY: setup run test bench-setup fuzz clean

setup: $(VENV)/.installed
	@scripts/install-debs.sh $(TEST_DEBS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,fuzz]'
	@touch $@

run: setup
	$(VENV)/bin/softswitch run --config examples/demo-hospital.toml --data $(DATA) --demo

test: setup
	$(PY) -m pytest

bench-setup: setup
	@scripts/install-debs.sh $(BENCH_DEBS)
	$(PY) -m pip install --quiet -e '.[bench]'

fuzz: setup
	$(PY) -m tests.fuzz.fuzz_parser -max_total_time=600

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
