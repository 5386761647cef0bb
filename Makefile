PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# byte-compile our own modules, as pip does for a regular install: every `clause` starts faster,
	# even where PYTHONDONTWRITEBYTECODE is set (a stale file is ignored: Python checks it against its source)
	$(BIN)/python -m compileall -q compiler engine facts cli > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/clause check policy
	$(BIN)/clause sources policy > /dev/null && echo "every source sentence is encoded or listed as not encoded"
	$(BIN)/clause test examples
	$(BIN)/clause obligations examples
	$(BIN)/clause why examples/missing-from-home-weekend.yaml --child C2 --action strategy_discussion
	$(BIN)/clause report examples --from 2024-01-01 --to 2024-12-31 --at 2024-06-09T10:00 -o examples-report.html
	@echo "report written to examples-report.html (every case judged as at 2024-06-09T10:00, the worklists above each at its own as_of, so the counts differ);"
	@echo "to open the worklist in a browser (http://127.0.0.1:8765/), run:"
	@echo "  $(BIN)/clause serve examples"

test: $(STAMP)
	$(BIN)/clause fmt --check policy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz CLAUSE_TEST_LOAD=large $(BIN)/python -m pytest tests/test_compiler_fuzz.py tests/test_facts_fuzz.py \
		tests/test_policy_properties.py tests/test_scale_differential.py tests/test_sql_programs.py \
		tests/test_determinism.py tests/test_validation_rules.py tests/test_fmt_properties.py \
		tests/test_extracts.py tests/test_handwritten.py tests/test_fuzz_slice.py tests/test_cache.py tests/test_explain_data.py tests/test_conditions.py tests/test_yaml_loaders.py
	# the fuzz campaign (bench/fuzz): FUZZ_BUDGET inputs of each kind (default 100000, about an hour on 2 cores), into bench/robustness.md
	$(BIN)/python -m bench.fuzz

clean:
	rm -rf $(VENV) build *.egg-info examples-report.html
