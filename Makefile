PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/clause check policy
	$(BIN)/clause obligations examples --at 2024-03-12T09:00

test: $(STAMP)
	$(BIN)/python -m pytest

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_compiler_fuzz.py tests/test_facts_fuzz.py tests/test_policy_properties.py

clean:
	rm -rf $(VENV) build *.egg-info
