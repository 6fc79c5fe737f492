# Two entry points for people: `make demo` and `make test`. Both depend on `setup`,
# which is idempotent: it only reinstalls when pyproject.toml or the lock changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DATA_ROOT ?= data/demo

.PHONY: setup demo test test-slow lint bench bench-cluster java spark-archive

setup: java $(STAMP) spark-archive

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@touch $(STAMP)

# A class-data archive of the Spark driver JVM (spark_runtime/cds.py): about 2 s off every
# Spark start. Made once by a short training run; a no-op when it exists.
spark-archive: java $(STAMP)
	@$(BIN)/python -m spark_runtime.cds

# Spark needs Java 17. Install it when we are root on a Debian-like machine;
# otherwise say exactly what to run.
java:
	@if java -version 2>&1 | grep -q 'version "17'; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Java 17 not found: installing openjdk-17-jre-headless"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else \
		echo "Java 17 is required: run 'sudo apt-get install -y openjdk-17-jre-headless'"; exit 1; \
	fi

demo: setup
	$(BIN)/fullsite demo --data-root $(DATA_ROOT)

# The inner loop: everything but the tests marked `slow` (each starts more JVMs: a Spark
# standalone cluster, dbt's build on Spark). CI runs those too (`test-slow`, .ci/run).
test: setup
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

# ruff (pyflakes, pycodestyle, bugbear, pyupgrade, isort rules; pyproject.toml [tool.ruff]).
lint: setup
	$(BIN)/ruff check .

# Benchmarks write BENCHMARKS.md; generated data and working roots go to $(BENCH_WORK)
# (reused between runs). BENCH_ARGS passes options, e.g. BENCH_ARGS="--only history --repeats 1".
BENCH_WORK ?= data/bench
bench: setup
	$(BIN)/python -m benchmarks.run --work $(BENCH_WORK) $(BENCH_ARGS)

bench-cluster: setup
	$(BIN)/python -m benchmarks.cluster --work $(BENCH_WORK)
