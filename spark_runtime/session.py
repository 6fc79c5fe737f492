"""One Spark session per run, tuned for a 2-core machine but free of local-mode assumptions."""
from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from spark_runtime.localfs import CLASS, FALLBACK, built_jar

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def log_level() -> str:
    return os.environ.get("FULLSITE_SPARK_LOG_LEVEL", "ERROR")


# The driver's collector unless FULLSITE_DRIVER_JAVA_OPTIONS replaces it (see below).
GC_OPTIONS = "-XX:+UseParallelGC"


def driver_java_options() -> str:
    """The throughput collector (a nightly batch has no pause-time goal, and G1's barriers
    cost a few percent of every row on 2 cores: about 3 s of a large night), plus the
    class-data archive when ``make setup`` made one (spark_runtime/cds.py), and the quiet
    logging of ``log4j2.properties``."""
    from spark_runtime.cds import java_options

    gc = os.environ.get("FULLSITE_DRIVER_JAVA_OPTIONS", GC_OPTIONS)
    log_options = f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()} -Dfullsite.spark.log.level={log_level()}"
    return f"{gc} {java_options()} {log_options}".strip()


def get_spark(master: str | None = None, app_name: str = "fullsite") -> SparkSession:
    """The run's session. ``master`` (or ``FULLSITE_SPARK_MASTER``) picks the cluster; when
    the job was launched by ``spark-submit`` (which sets PYSPARK_GATEWAY_PORT) the master
    it was given wins; otherwise local[2]."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name)
    master = master or os.environ.get("FULLSITE_SPARK_MASTER")
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit: local mode
        builder = builder.master("local[2]")
    local = (master or "local").startswith("local") and "PYSPARK_GATEWAY_PORT" not in os.environ
    builder = (
        builder
        .config("spark.sql.session.timeZone", "UTC")  # business dates are derived explicitly
        .config("spark.sql.shuffle.partitions", os.environ.get("FULLSITE_SHUFFLE_PARTITIONS", "4"))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "true")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", os.environ.get("FULLSITE_DRIVER_MEMORY", "4g"))
        # Takes effect when this process starts the JVM (not under spark-submit).
        .config("spark.driver.extraJavaOptions", driver_java_options())
        .config("spark.sql.ansi.enabled", "true")  # overflow and bad casts fail loudly
    )
    # Local paths without Hadoop's checksum layer: it would verify a data file against any
    # ``.<name>.crc`` beside it, so one stray file from upstream (never a data file, decision
    # D22) failed the night. Spark's own output needs no .crc files either. In local mode the
    # driver is the only JVM, so it can also take our subclass that sets permissions without
    # forking a chmod per file (spark_runtime/localfs.py); a cluster's executors may not
    # have the jar.
    jar = built_jar() if local else None
    if jar is not None:
        builder = builder.config("spark.driver.extraClassPath", str(jar)).config("spark.hadoop.fs.file.impl", CLASS)
    else:
        builder = builder.config("spark.hadoop.fs.file.impl", FALLBACK)
    if os.environ.get("FULLSITE_EXECUTOR_MEMORY"):  # cluster executors (local mode has none)
        builder = builder.config("spark.executor.memory", os.environ["FULLSITE_EXECUTOR_MEMORY"])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(log_level())
    return spark
