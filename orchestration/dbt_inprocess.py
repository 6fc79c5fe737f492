"""dbt in the run's own process, on a parse of the project made once per process (D34).

A ``dbt`` subprocess costs about 4 s of every night before it builds anything: importing
dbt, loading its parse of the project, writing the parse back. In the process that runs
the pipeline, the parse is made once and handed to every later build (``dbtRunner(manifest=…)``,
dbt's programmatic interface); each build still renders every model from the project's files
with that night's vars.

Every input of a build is an argument (project, profile, paths, vars): the process's
environment and working directory are never changed, so nothing else in the process (a
Dagster sensor, a thread) sees a night's settings. Builds take turns under one lock: dbt's
runner is not re-entrant. dbt-duckdb keeps its database open for the life of the process:
the connections are closed after every build, so that the gates, finalisation and
publication can open the staging file (duckdb/dbt-duckdb#616).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# dbt is imported by the functions that run it: it costs 1.5 s, and this module is loaded
# by every command that reads the warehouse (orchestration/warehouse.py), not only builds.
_LOCK = threading.Lock()
_PARSED: dict[str, Any] = {}  # project fingerprint → dbt's Manifest of it


def _close_connections() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415 (cost)

    DuckDBConnectionManager.close_all_connections()


def _parsed(runner_class, parse: list[str], fingerprint: str, before, after):
    """dbt's Manifest of the project, parsed with the ``parse`` arguments the first time this
    process builds it (by its fingerprint); ``(None, result)`` when the parse failed."""
    manifest = _PARSED.get(fingerprint)
    if manifest is not None:
        return manifest, None
    if before:
        before()
    parsed = runner_class().invoke(["parse", *parse])
    _close_connections()
    if after:
        after()
    if not parsed.success:
        return None, parsed
    _PARSED.clear()  # one project per process: an edited project replaces the old parse
    _PARSED[fingerprint] = parsed.result
    return parsed.result, None


def invoke(
    parse: list[str],
    command: list[str],
    fingerprint: str,
    before_parse: Callable[[], None] | None = None,
    after_parse: Callable[[], None] | None = None,
):
    """``dbt <command>`` in this process; returns dbt's ``dbtRunnerResult``.

    ``parse`` are the arguments of the project's parse, made the first time a project (by
    its fingerprint) is built in this process; ``command`` is the whole command line of the
    build. ``before_parse``/``after_parse`` let the caller reuse dbt's own partial parse
    across processes."""
    from dbt.cli.main import dbtRunner  # noqa: PLC0415 (import cost, see _LOCK)

    with _LOCK:
        manifest, failed = _parsed(dbtRunner, parse, fingerprint, before_parse, after_parse)
        if failed is not None:
            return failed
        try:
            # A copy: a build marks the nodes it compiles, and the next night must start clean.
            return dbtRunner(manifest=manifest.deepcopy()).invoke(command)
        finally:
            _close_connections()
