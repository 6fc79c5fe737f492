"""The session's driver JVM starts with fullsite's options, not Spark's defaults."""
import os
import subprocess
import sys


def test_a_session_starts_without_log_noise():
    # Spark's default profile logs at WARN until the session is up and announces the level
    # it sets: four lines between the progress bars of every run.
    code = "from spark_runtime.session import get_spark; get_spark().stop()"
    env = {k: v for k, v in os.environ.items() if k != "FULLSITE_SPARK_LOG_LEVEL"}  # the default level
    started = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert started.returncode == 0, started.stderr
    noise = [line for line in started.stderr.splitlines() if "log level" in line or " WARN " in line
             or "log4j profile" in line]
    assert noise == []


def test_driver_jvm_runs_the_throughput_collector(spark):
    jvm = spark.sparkContext._jvm
    collectors = [b.getName() for b in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()]
    assert any("PS " in name for name in collectors), collectors
