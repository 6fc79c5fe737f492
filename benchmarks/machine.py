"""The machine a benchmark ran on, in a few lines."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from importlib import metadata

import psutil


def _cpu_model() -> str:
    try:
        text = open("/proc/cpuinfo").read()
    except OSError:
        return platform.processor() or "unknown"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return found.group(1).strip() if found else "unknown"


def _java() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    except OSError:
        return "not found"
    return out.splitlines()[0].strip() if out else "unknown"


def describe() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "java": _java(),
        "versions": {
            p: metadata.version(p)
            for p in (
                "pyspark",
                "duckdb",
                "dbt-core",
                "dbt-duckdb",
                "great_expectations",
                "dagster",
            )
        },
    }
