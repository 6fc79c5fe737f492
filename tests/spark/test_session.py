"""The session's driver JVM starts with fullsite's options, not Spark's defaults."""

import os
import re
import subprocess
import sys

from spark_runtime.session import CODE_HEAP


def test_a_session_starts_without_log_noise():
    # Spark's default profile logs at WARN until the session is up and announces the level
    # it sets: four lines between the progress bars of every run.
    code = "from spark_runtime.session import get_spark; get_spark().stop()"
    # the default level
    env = {k: v for k, v in os.environ.items() if k != "FULLSITE_SPARK_LOG_LEVEL"}
    started = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert started.returncode == 0, started.stderr
    noise = [
        line
        for line in started.stderr.splitlines()
        if "log level" in line or " WARN " in line or "log4j profile" in line
    ]
    assert noise == []


def test_driver_jvm_runs_the_throughput_collector(spark):
    jvm = spark.sparkContext._jvm
    collectors = [
        b.getName() for b in jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()
    ]
    assert any("PS " in name for name in collectors), collectors


def test_driver_jvm_reserves_code_cache_for_a_long_run(spark):
    # A restatement of many nights in one driver filled the default 240 MiB once (D51).
    jvm = spark.sparkContext._jvm
    options = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    asked = {name: int(mib) << 20 for name, mib in re.findall(r"-XX:(\w+)=(\d+)m", CODE_HEAP)}
    assert set(asked) == {"ReservedCodeCacheSize", "NonNMethodCodeHeapSize"}
    for name, size in asked.items():
        assert int(options.getVMOption(name).getValue()) == size, name


def test_local_writes_set_permissions_without_forking_chmod(spark, tmp_path):
    # make setup compiles the file system class (a JDK is part of setup); without it every
    # file and folder a write creates forks the driver JVM for a chmod.
    from spark_runtime.localfs import CLASS, built_jar

    assert built_jar() is not None, "make setup builds the local file system jar"
    assert spark.sparkContext._jsc.hadoopConfiguration().get("fs.file.impl") == CLASS
    spark.range(3).selectExpr("id", "id * 2 AS x").write.partitionBy("id").parquet(
        str(tmp_path / "out")
    )
    # The same modes as Hadoop's chmod gave (umask 022): folders 0755, files 0644.
    folders = [p for p in (tmp_path / "out").rglob("*") if p.is_dir()]
    files = [p for p in (tmp_path / "out").rglob("*.parquet")]
    assert len(folders) == 3 and len(files) == 3, (folders, files)
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {"0o755"}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}
