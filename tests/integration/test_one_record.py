"""One record of a killed run (issue 44): Dagster, `fullsite status` and the run log say the
same thing — the run was interrupted (Dagster: FAILURE), and whether its night was published
(then Dagster holds the night's materialization, and the brief is owed)."""

from __future__ import annotations

import json
import signal

import dagster as dg
import pytest

from orchestration import definitions as d
from orchestration import runlog
from orchestration.launch import instance
from tests.conftest import NEXT, PUBLISHED, copy_root
from tests.runs import cli, one_record


@pytest.mark.slow
@pytest.mark.parametrize(
    "point, published", [("before-publish", False), ("after-publish", True), ("during-brief", True)]
)
def test_a_killed_run_is_one_record_in_dagster_status_and_the_run_log(
    published_root, tmp_path, point, published
):
    """Night: the shared published root, copied; its next night is killed at ``point``."""
    root = copy_root(published_root, tmp_path / "root")
    killed = cli(
        "run", "--data-root", str(root), "--date", str(NEXT), env={"FULLSITE_CRASH_AT": point}
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # no run alive: reconciled
    status = json.loads(cli("status", "--data-root", str(root), "--json").stdout)
    last = status["runs"][-1]
    said = runlog.PUBLISHED_THEN_ENDED if published else runlog.ENDED
    assert (last["ingest_date"], last["status"], last["message"]) == (
        str(NEXT),
        "interrupted",
        said,
    )
    assert status["last_success"] == str(NEXT if published else PUBLISHED)
    # what follows publication was left undone
    assert (str(NEXT) in status["briefs_owed"]) == published
    # the run log itself, not only the view
    assert runlog.read_one(root, last["run_id"])["status"] == "interrupted"
    assert one_record(root, last["dagster_run_id"]) == "interrupted"
    with instance(root) as inst:
        assert inst.get_run_by_id(last["dagster_run_id"]).status == dg.DagsterRunStatus.FAILURE
        latest = inst.get_latest_materialization_event(d.PUBLISHED).asset_materialization
        assert (latest.partition == str(NEXT)) == published
        if published:
            assert latest.metadata["run_id"].value == last["run_id"]
