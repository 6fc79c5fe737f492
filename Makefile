# Two entry points for people: `make demo` and `make test`. Both depend on `setup`,
# which is idempotent: it only reinstalls when pyproject.toml or the lock changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DATA_ROOT ?= data/demo

LINT_VENV := .venv-sqlfluff
LINT_STAMP := $(LINT_VENV)/.setup-stamp

.PHONY: setup hooks demo test test-slow test-alone lint bench bench-cluster profile java \
	spark-localfs spark-archive

setup: java $(STAMP) spark-localfs spark-archive hooks

# Commit subjects of at most 72 characters (CONTRIBUTING.md): git runs .githooks/commit-msg.
hooks:
	@if git rev-parse --git-dir >/dev/null 2>&1; then git config core.hooksPath .githooks; fi

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@touch $(STAMP)

# Hadoop's local file system without a forked chmod per file written (spark_runtime/
# localfs.py): compiled once with javac into the venv; without a JDK, Spark falls back.
spark-localfs: java $(STAMP)
	@$(BIN)/python -m spark_runtime.localfs

# A class-data archive of the Spark driver JVM (spark_runtime/cds.py): about 2 s off every
# Spark start. Made once by a short training run; a no-op when it exists.
spark-archive: java $(STAMP) spark-localfs
	@$(BIN)/python -m spark_runtime.cds

# Spark needs Java 17; its compiler (a JDK) builds spark_runtime/localfs.py's class. Install
# the JDK when we are root on a Debian-like machine; a JRE alone still runs everything.
java:
	@if java -version 2>&1 | grep -q 'version "17' && command -v javac >/dev/null; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Java 17 JDK not found: installing openjdk-17-jdk-headless"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null; \
	elif java -version 2>&1 | grep -q 'version "17'; then :; \
	else \
		echo "Java 17 is required: run 'sudo apt-get install -y openjdk-17-jdk-headless'"; exit 1; \
	fi

demo: setup
	$(BIN)/fullsite demo --data-root $(DATA_ROOT)

# The inner loop: everything but the tests marked `slow` (a Spark standalone cluster, dbt's
# build on Spark, the harder days' backfill for the reference, and those days cleaned in one
# pass against night by night). CI runs those too (`test-slow`, .ci/run).
test: setup
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

# Every test file collects alone, and a sample of tests (another at every commit) passes
# alone, each in a pytest process of its own (tests/alone.py). CI runs it.
test-alone: setup
	$(BIN)/python -m tests.alone

# ruff (pyflakes, pycodestyle, bugbear, pyupgrade, isort rules, lines of at most 100
# characters, functions of at most 30 statements and a complexity of 10, imports at the
# top; pyproject.toml [tool.ruff]) and its formatter; functions of at most 50 lines
# (tests/lint_functions.py);
# the layers (import-linter) and the types (mypy) of the packages; the semantic layer's
# definitions (MetricFlow, on the project's parse; the checks against a warehouse run in the
# tests, on a published one); dbt's metadata (dbt-score, a floor of 9.0); the dbt YAML
# (yamllint: block style) and SQL (SQLFluff with the dbt templater, .sqlfluff).
# SQLFluff and its dbt templater need a click older than the one dbt, Dagster and typer share,
# so they live in an environment of their own (lint.lock).
$(LINT_STAMP): lint.lock
	@test -x $(LINT_VENV)/bin/python || $(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(LINT_VENV)/bin/python -m pip install --quiet -r lint.lock
	@touch $(LINT_STAMP)

# The dbt models as dbt renders them, for a night of the demo's (nothing is read or built).
SQLFLUFF_ENV := FULLSITE_RUN_DATE=2024-08-01 FULLSITE_DATA_ROOT=data/demo DBT_TARGET_PATH=target/sqlfluff \
	FULLSITE_DBT_DB=$(CURDIR)/dbt_project/target/sqlfluff/lint.duckdb DBT_SEND_ANONYMOUS_USAGE_STATS=false

lint: setup $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.lint_functions  # every package of pyproject's import contract
	$(BIN)/yamllint -c .yamllint.yml dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/dbt_project.yml
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	@$(BIN)/python -m fullsite.dbt_artifacts >/dev/null
	cd dbt_project && ../$(BIN)/mf validate-configs --skip-dw
	$(BIN)/dbt-score lint --manifest dbt_project/target/manifest.json --show failing-items
	@mkdir -p dbt_project/target/sqlfluff
	$(SQLFLUFF_ENV) $(LINT_VENV)/bin/sqlfluff lint dbt_project/models

# Benchmarks write BENCHMARKS.md; generated data and working roots go to $(BENCH_WORK)
# (reused between runs). BENCH_ARGS passes options, e.g. BENCH_ARGS="--only history --repeats 1".
BENCH_WORK ?= data/bench
bench: setup
	$(BIN)/python -m benchmarks.run --work $(BENCH_WORK) $(BENCH_ARGS)

# where a night's Spark stage spends its time (issue 46), from Spark's event log
PROFILE_SCALE ?= large
profile: setup
	$(BIN)/python -m benchmarks.spark_profile --work $(BENCH_WORK) --scale $(PROFILE_SCALE)

bench-cluster: setup
	$(BIN)/python -m benchmarks.cluster --work $(BENCH_WORK)
