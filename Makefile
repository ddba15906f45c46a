# Two commands a new user needs: `make demo` and `make test` (`make test-fast` skips
# the tests that load a real model).
# Both create .venv on first use and are idempotent afterwards.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install bench samples clean

# -qq: pip prints errors only (a failed build, a dependency conflict), not its warnings.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	# The CPU build of torch must come first, or pip pulls gigabytes of CUDA packages.
	$(BIN)/pip install -qq torch==2.13.0
	$(BIN)/pip install -qq -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dispatch verify --quotes transcripts/ audio_samples/*.mp3 --out results/
	@echo
	$(BIN)/dispatch transcribe audio_samples/capture/ --quiet --tz America/Chicago \
		--unit-tags audio_samples/capture/unit_tags.csv --out results/capture/

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

samples: $(STAMP)
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf results/ .pytest_cache
