# Two commands on a fresh machine:  make run   |   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# Local demo mode (no sign-in configured) must only listen on this computer.
ADDRESS ?= 127.0.0.1

.PHONY: run test install install-test migrate seed bench load clean

$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.runtime
install-test: $(VENV)/.test

migrate: install
	$(PY) -m core migrate

seed: migrate
	$(PY) -m core seed-demo --if-empty

run: seed
	$(PY) -m streamlit run server.py --server.port $(PORT) --server.address $(ADDRESS)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-test
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.run --only busy $(BUSY_ARGS)

load: install-test
	$(PY) -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis artifacts
