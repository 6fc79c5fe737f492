"""dbt in the run's own process, on a parse of the project made once per process (D34).

A ``dbt`` subprocess costs about 4 s of every night before it builds anything: importing
dbt, loading its parse of the project, writing the parse back. In the process that runs
the pipeline, the parse is made once and handed to every later build (``dbtRunner(manifest=…)``);
each build still renders every model from the project's files with that night's dates.

dbt reads its inputs from the process — environment variables (the profile, the dates)
and the working directory (the data root is ``..`` of the staging folder) — so a build
runs exactly as the subprocess did: the same variables, the same directory, the same
arguments, under one lock (dbt is not re-entrant), and both are put back afterwards.
dbt-duckdb keeps its database open for the life of the process: the connections are
closed after every build, so that the gates, finalisation and publication can open the
staging file (duckdb/dbt-duckdb#616).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# dbt is imported by the functions that run it: it costs 1.5 s, and this module is loaded
# by every command that reads the warehouse (orchestration/warehouse.py), not only builds.
_LOCK = threading.Lock()
_PARSED: dict[str, Any] = {}  # project fingerprint → dbt's Manifest of it


@contextlib.contextmanager
def _process_inputs(cwd: Path, env: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables and the working directory; restore both."""

    def apply(values: Mapping[str, str | None]) -> None:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    saved = {k: os.environ.get(k) for k in env}
    here = os.getcwd()
    try:
        apply(env)
        os.chdir(cwd)
        yield
    finally:
        os.chdir(here)
        apply(saved)


def _close_connections() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415 (cost)

    DuckDBConnectionManager.close_all_connections()


def invoke(
    cwd: Path,
    env: Mapping[str, str | None],
    common: list[str],
    command: list[str],
    fingerprint: str,
    before_parse=None,
    after_parse=None,
):
    """``dbt <command> <common>`` in this process; returns dbt's ``dbtRunnerResult``.

    ``common`` are the arguments a parse shares with the command (project, profile,
    target and log paths); the parse of the project is made with them the first time a
    project (by its fingerprint) is built in this process. ``before_parse``/``after_parse``
    let the caller reuse dbt's own partial parse across processes."""
    from dbt.cli.main import dbtRunner  # noqa: PLC0415 (import cost, see _LOCK)

    with _LOCK, _process_inputs(cwd, env):
        manifest: Any = _PARSED.get(fingerprint)
        if manifest is None:
            if before_parse:
                before_parse()
            parsed = dbtRunner().invoke(["parse", *common])
            _close_connections()
            if after_parse:
                after_parse()
            if not parsed.success:
                return parsed
            _PARSED.clear()  # one project per process: an edited project replaces the old parse
            _PARSED[fingerprint] = manifest = parsed.result
        try:
            # A copy: a build marks the nodes it compiles, and the next night must start clean.
            return dbtRunner(manifest=manifest.deepcopy()).invoke([*command, *common])
        finally:
            _close_connections()
