"""A full disk explains itself (issue 44): a night that fills a small file system mid-run
ends failed — not "interrupted" — with its cause in words in the CLI, dq/last_error.txt and
`fullsite status`; staging is cleaned and the published warehouse is as it was."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import uuid

import pytest

from tests.conftest import NEXT, copy_root
from tests.runs import cli

# what the night may write before the disk is full: less than a staging warehouse
HEADROOM = 8 << 20


def _used(path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.fixture
def small_disk(tmp_path):
    """A file system of its own, a few megabytes big (tmpfs; needs root, as CI has)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_mid_run_is_said_in_words_and_leaves_nothing_half_built(
    published_root, small_disk
):
    """Night: the shared published root, copied onto a small file system; its next night fills
    it."""
    size = _used(published_root) + HEADROOM
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(small_disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    root = copy_root(published_root, small_disk / "root")
    shutil.rmtree(root / "staging", ignore_errors=True)
    before = (root / "warehouse.duckdb").read_bytes()
    done = cli("run", "--data-root", str(root), "--date", str(NEXT))
    last_line = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last_line.startswith("error: run failed: the disk is full"), (
        done.stderr[-3000:]
    )
    assert "Traceback" not in done.stderr and "OperationalError" not in last_line
    assert "the disk is full" in (root / "dq" / "last_error.txt").read_text()
    assert not (root / "staging" / "warehouse.duckdb").exists()
    assert (root / "warehouse.duckdb").read_bytes() == before
    # room for status to read (it writes nothing)
    shutil.rmtree(root / "curated", ignore_errors=True)
    status = json.loads(cli("status", "--data-root", str(root), "--json").stdout)
    last = status["runs"][-1]
    assert last["status"] == "failed" and "the disk is full" in last["message"]
    # issue 47: how long the command took, JVM and all — not only the stages that ran
    before_stages = dt.datetime.fromisoformat(last["started_at"]) - dt.datetime.fromisoformat(
        last["command_started_at"]
    )
    minutes, seconds = last["took"].split(":")
    assert int(minutes) * 60 + int(seconds) >= int(before_stages.total_seconds()) > 0
