# neuro-bridge: `make demo` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE := sample_games/pygame_connect_four
# Two steps: what the demo needs (the runtime, pygame-ce and the sample game), then
# the project's own tools (the `dev` dependency group in pyproject.toml) for the rest.
DEMO_STAMP := $(VENV)/.demo-installed
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck docs bench venv clean compat39

venv: $(STAMP)

$(DEMO_STAMP): pyproject.toml $(SAMPLE)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e . -e $(SAMPLE)
	touch $@

$(STAMP): $(DEMO_STAMP)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet --group dev
	touch $@

## The main job: a sample game played by the built-in stand-in Neuro.
demo: $(DEMO_STAMP)
	$(BIN)/neuro-bridge demo

## The real engines the engine tests run on (Ren'Py 8.0.3 and 8.3.4, Godot 4), cached
## in ~/.cache/neuro-bridge/engines; instant once there (tools/engines/provision.py).
.PHONY: engines
engines:
	$(PYTHON) tools/engines/provision.py --quiet

## The whole test suite: pytest, ruff, mypy --strict and the docs build.
test: $(STAMP) engines
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(BIN)/python bench/protocol_cpu.py

## The whole suite on Python 3.9 (what Ren'Py 8.0-8.3 ship), with the dependency
## versions pip picks there (trio 0.31, wsproto 1.2, fastjsonschema 2.21).  Not part
## of `test`: it needs a python3.9 (with pyenv: PYENV_VERSION=3.9.18).  The package
## and the sample game are installed normally (not editable) there.
PYTHON39 ?= python3.9
compat39:
	$(PYTHON39) -m venv .venv39
	.venv39/bin/python -m pip install --quiet ".[pygame,web]" ./$(SAMPLE) pytest pytest-trio hypothesis playwright
	.venv39/bin/python -m pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv39 docs/_build
