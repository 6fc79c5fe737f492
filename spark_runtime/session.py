"""One Spark session per run, tuned for a 2-core machine but free of local-mode assumptions."""

from __future__ import annotations

import os
from pathlib import Path

from pyspark import SparkConf
from pyspark.sql import SparkSession

from fullsite import settings
from spark_runtime import quiet
from spark_runtime.cds import java_options
from spark_runtime.localfs import CLASS, FALLBACK, built_jar

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def log_level() -> str:
    return settings.given("FULLSITE_SPARK_LOG_LEVEL")


# The driver's collector unless FULLSITE_DRIVER_JAVA_OPTIONS replaces it (see below).
GC_OPTIONS = settings.SETTINGS["FULLSITE_DRIVER_JAVA_OPTIONS"].default or ""


# Twice the JVM's default code cache (240 MiB), and a larger part of it for adapters and
# stubs, which are never freed. Every night compiles new generated classes, and a long run
# in one driver (a restatement of many nights) filled the cache once in CI ("Out of space
# in CodeCache for adapters") and failed; ten `small` nights in one process use 90 MiB.
# The space is reserved, not committed, until it is used.
CODE_HEAP = "-XX:ReservedCodeCacheSize=512m -XX:NonNMethodCodeHeapSize=32m"


def driver_java_options() -> str:
    """The throughput collector (a nightly batch has no pause-time goal, and G1's barriers
    cost a few percent of every row on 2 cores: about 3 s of a large night), plus the
    class-data archive when ``make setup`` made one (spark_runtime/cds.py), and the quiet
    logging of ``log4j2.properties``."""
    gc = settings.given("FULLSITE_DRIVER_JAVA_OPTIONS")
    log_options = (
        f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()} -Dfullsite.spark.log.level={log_level()}"
    )
    return f"{gc} {CODE_HEAP} {java_options()} {log_options}".strip()


def get_spark(master: str | None = None, app_name: str = "fullsite") -> SparkSession:
    """The run's session. ``master`` (or ``FULLSITE_SPARK_MASTER``) picks the cluster; when
    the job was launched by ``spark-submit`` (which sets PYSPARK_GATEWAY_PORT) the master
    it was given wins; otherwise local[2]."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = SparkConf().setAppName(app_name)
    master = master or settings.get("FULLSITE_SPARK_MASTER")
    # launched by spark-submit: its JVM, its master
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if master:
        conf.setMaster(master)
    elif not submitted:  # local mode
        conf.setMaster("local[2]")
    local = (master or "local").startswith("local") and not submitted
    _configure(conf, local)
    if not submitted:
        quiet.launch_jvm(conf)  # the JVM's own start-up noise kept out of our output
    spark = SparkSession.builder.config(conf=conf).getOrCreate()
    spark.sparkContext.setLogLevel(log_level())
    return spark


def _configure(conf: SparkConf, local: bool) -> None:
    """The session's settings (in the JVM's launch: driver options take effect only there)."""
    (
        conf.set("spark.sql.session.timeZone", "UTC")  # business dates are derived explicitly
        .set("spark.sql.shuffle.partitions", settings.given("FULLSITE_SHUFFLE_PARTITIONS"))
        .set("spark.sql.adaptive.enabled", "true")
        .set("spark.sql.adaptive.coalescePartitions.enabled", "true")
        .set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.driver.memory", settings.given("FULLSITE_DRIVER_MEMORY"))
        # Takes effect when this process starts the JVM (not under spark-submit).
        .set("spark.driver.extraJavaOptions", driver_java_options())
        .set("spark.sql.ansi.enabled", "true")  # overflow and bad casts fail loudly
    )
    # Local paths without Hadoop's checksum layer: it would verify a data file against any
    # ``.<name>.crc`` beside it, so one stray file from upstream (never a data file, decision
    # D22) failed the night. Spark's own output needs no .crc files either. In local mode the
    # driver is the only JVM, so it can also take our subclass that sets permissions without
    # forking a chmod per file (spark_runtime/localfs.py); a cluster's executors may not
    # have the jar.
    jar = built_jar() if local else None
    if jar is not None:
        conf.set("spark.driver.extraClassPath", str(jar)).set("spark.hadoop.fs.file.impl", CLASS)
    else:
        conf.set("spark.hadoop.fs.file.impl", FALLBACK)
    if executors := settings.get("FULLSITE_EXECUTOR_MEMORY"):  # a cluster's (local has none)
        conf.set("spark.executor.memory", executors)
