"""The dbt project's parse artifacts — ``manifest.json`` (Dagster's assets) and
``semantic_manifest.json`` (the metrics) — made by ``dbt parse`` when missing or older than
the project, and read by every layer that describes or queries what dbt builds.

The parse renders no data: the profile points at a database named ``warehouse`` (the name
of the published file), so the semantic manifest's relations read ``"warehouse"."marts"…``.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fullsite import settings
from fullsite.rules import DBT_PROJECT_DIR

ARTIFACTS = ("manifest.json", "semantic_manifest.json")


class ParseFailed(Exception):
    """The dbt project does not parse (one line: dbt's own last words)."""


def target_dir() -> Path:
    return Path(settings.get("FULLSITE_DBT_TARGET") or DBT_PROJECT_DIR / "target")


def _newest_source() -> float:
    sources = [
        f
        for d in ("models", "macros", "tests", "seeds")
        for f in (DBT_PROJECT_DIR / d).rglob("*")
        if f.is_file()
    ]
    return max(
        [f.stat().st_mtime for f in sources]
        + [(DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime]
    )


def _fresh(folder: Path, newest: float) -> bool:
    return all(
        (folder / name).exists() and (folder / name).stat().st_mtime >= newest for name in ARTIFACTS
    )


def parsed(name: str = "manifest.json") -> Path:
    """The path of one parse artifact of the current project, parsing first if needed."""
    folder, newest = target_dir(), _newest_source()
    if _fresh(folder, newest):
        return folder / name
    # Fresh checkout or edited project: parse, one process at a time (`dagster dev`, a run and
    # `fullsite metrics` may start side by side and would write the same folder).
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _fresh(folder, newest):  # another process parsed meanwhile
            return folder / name
        # Parsed aside and moved in whole: a process that finds the artifacts fresh reads them
        # unlocked.
        with tempfile.TemporaryDirectory(dir=folder, prefix=".parse-") as work:
            env = {
                **os.environ,
                "FULLSITE_DATA_ROOT": settings.get("FULLSITE_DATA_ROOT") or "data/demo",
                "FULLSITE_DBT_DB": str(Path(work) / "warehouse.duckdb"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            }
            done = subprocess.run(
                [
                    str(Path(sys.executable).parent / "dbt"),
                    "parse",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--target-path",
                    work,
                    "--quiet",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                lines = [
                    line.strip()
                    for line in (done.stdout + done.stderr).splitlines()
                    if line.strip()
                ]
                raise ParseFailed(
                    f"dbt parse of {DBT_PROJECT_DIR} failed: "
                    f"{' '.join(lines[-2:]) or done.returncode}"
                )
            for artifact in ARTIFACTS:
                os.replace(Path(work) / artifact, folder / artifact)
    return folder / name


# make lint: parse (when stale) before `mf validate-configs` reads the semantic manifest
if __name__ == "__main__":
    print(parsed("semantic_manifest.json"))
