"""Sentences a person understands for the faults of a machine, not exception names."""

from __future__ import annotations

import errno
import os
import signal

from fullsite import settings

_OS = {
    errno.ENOSPC: "the disk is full: no space left to write {path}",
    errno.EDQUOT: "the disk quota is used up: cannot write {path}",
    errno.EACCES: "permission denied: this user cannot write {path}",
    errno.EPERM: "permission denied: this user cannot write {path}",
    errno.EROFS: "the file system is read-only: cannot write {path}",
    errno.ENOTDIR: "a file stands where a folder should be: {path}",
    errno.EEXIST: "something else already stands at {path} (a file where a folder should be?)",
    errno.EISDIR: "a folder stands where a file should be: {path}",
    errno.ENOENT: "a file or folder the run needs is missing: {path}",
    errno.EIO: "the disk reported an input/output error at {path}",
}
# The same faults as the JVM (Spark) words them.
_JVM = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Permission denied": errno.EACCES,
    "Read-only file system": errno.EROFS,
    "Not a directory": errno.ENOTDIR,
}


# The same faults as other engines word them (SQLite under Dagster's instance, DuckDB), and
# Java missing as pyspark words it.
_STORAGE = ("disk I/O error", "database or disk is full", "No space left on device")
_NO_JAVA = ("JAVA_GATEWAY_EXITED", "Java gateway process exited")


def describe(exc: BaseException) -> str:
    """One line: what went wrong where, in words, for the run log, last_error.txt and the CLI."""
    if isinstance(exc, OSError) and exc.errno in _OS:
        path = exc.filename or "a file of the data root"
        return _OS[exc.errno].format(path=path)
    text = str(exc).strip()
    if any(words in text for words in _NO_JAVA):
        return (
            "Java could not be started, so Spark cannot run: install Java 17 "
            "(sudo apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME to it "
            f"(JAVA_HOME is {os.environ.get('JAVA_HOME') or 'not set'})"
        )
    if "sqlite3.OperationalError" in text and any(words in text for words in _STORAGE):
        return (
            "the disk is full or failing: the Dagster instance of the data root "
            "(<data-root>/dagster, SQLite) could not be written"
        )
    for words, code in _JVM.items():
        if words in text:
            return _OS[code].format(path="a file Spark writes") + f" ({words})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    first = (text.splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def crash_point(name: str) -> None:
    """A place a run can be killed at on purpose: ``FULLSITE_CRASH_AT=<name>`` kills this
    process there with SIGKILL, as an OOM kill or a pulled plug would, for drills and the
    tests that hold what a killed run leaves (before-publish, after-publish, during-brief)."""
    if settings.get("FULLSITE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
