"""The driver JVM's own noise kept out of what people read (issue 47).

Spark 4 starts its JVM with the incubating Vector API module, and the JVM announces it on
stderr as the first line of every run — an operator's failed run included — in words that
are not ours and call for nothing. The JVM is started here with its stderr through a
filter: that one announcement is dropped, everything else (Spark's own errors, log4j's
output) passes through unchanged, to the same stderr.
"""

from __future__ import annotations

import os
import subprocess
import threading

from pyspark import SparkConf, SparkContext
from pyspark.java_gateway import launch_gateway

NOISE = (b"WARNING: Using incubator modules:",)


def _pump(stream) -> None:
    for line in iter(stream.readline, b""):
        if not line.startswith(NOISE):
            os.write(2, line)


def launch_jvm(conf: SparkConf) -> None:
    """Start the driver JVM for ``conf`` unless this process has one (a session already ran)."""
    if SparkContext._gateway is not None:
        return
    gateway = launch_gateway(conf, popen_kwargs={"stderr": subprocess.PIPE})
    threading.Thread(
        target=_pump, args=(gateway.proc.stderr,), name="jvm-stderr", daemon=True
    ).start()
    SparkContext._ensure_initialized(gateway=gateway, conf=conf)
