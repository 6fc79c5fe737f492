"""Paths and values in SQL text and in globs, written so that nothing in them is read as
syntax (issue 38). A data root may be named ``data/o'brien`` or ``data/run[1]``, and a
partition holds files named upstream: bind a value where the engine allows it, and where it
must be text (a view's definition, a glob), write it through these.
"""
from __future__ import annotations

import re
from pathlib import Path

_GLOB = re.compile(r"([\[\]*?])")
_HADOOP_GLOB = re.compile(r"([\\\[\]*?{}])")


def sql_literal(value: str | Path) -> str:
    """A SQL string literal (DuckDB, Spark SQL): quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def duckdb_glob(path: str | Path) -> str:
    """A literal path inside a DuckDB glob pattern: each of ``[ ] * ?`` as a one-character class."""
    return _GLOB.sub(r"[\1]", str(path))


def hadoop_path(path: str | Path) -> str:
    """A path Spark's readers take literally (they expand Hadoop globs: ``[ ] * ? { } \\``)."""
    return _HADOOP_GLOB.sub(r"\\\1", str(path))
