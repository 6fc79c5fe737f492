"""Paths and values in SQL text and in globs, written so that nothing in them is read as
syntax (issue 38). A data root may be named ``data/o'brien`` or ``data/run[1]``, and a
partition holds files named upstream: bind a value where the engine allows it, and where it
must be text (a view's definition, a glob), write it through these.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
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


def glob_safe_dir(folder: Path) -> Path:
    """A folder as a tool that globs its path can find it: the folder itself, or — when its
    path holds ``[ ] * ?`` — a link with a plain name to it (Dagster loads ``dagster.yaml``
    from its home through a glob, and found none in ``…/run [1]/dagster``, issue 44)."""
    folder = Path(folder).resolve()
    if not _GLOB.search(str(folder)):
        return folder
    name = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    links = (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "fullsite"
        / "dagster-homes"
    )
    try:
        links.mkdir(parents=True, exist_ok=True)
    except OSError:
        links = Path(tempfile.gettempdir()) / "fullsite-dagster-homes"
        links.mkdir(parents=True, exist_ok=True)
    link = links / name
    if not link.is_symlink() or Path(os.readlink(link)) != folder:
        tmp = links / f".{name}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder, target_is_directory=True)
        os.replace(tmp, link)
    return link
