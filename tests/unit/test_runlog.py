"""Interrupted runs are found from the open-run markers, not by reading the whole history."""

import datetime as dt
import os

from orchestration import runlog
from orchestration.runlog import RunRecord

STARTED = dt.datetime(2024, 7, 6, 1, tzinfo=dt.UTC)


def _status(root, run_id):
    return {r["run_id"]: r["status"] for r in runlog.read_all(root)}[run_id]


def test_a_killed_run_is_marked_failed_and_finished_records_are_not_read_again(tmp_path):
    runlog.mark_interrupted(tmp_path)  # a new data root: nothing to mark
    done = RunRecord("2024-07-05-a", dt.date(2024, 7, 5), STARTED)
    done.write(tmp_path)
    done.status = "success"
    done.write(tmp_path)
    killed = RunRecord("2024-07-06-b", dt.date(2024, 7, 6), STARTED)
    killed.write(tmp_path)  # never finishes
    # A finished run's record is not read: even an unreadable one does not stop the check.
    (runlog.folder(tmp_path) / "2024-07-05-a.parquet").write_bytes(b"not parquet")

    runlog.mark_interrupted(tmp_path)

    (runlog.folder(tmp_path) / "2024-07-05-a.parquet").unlink()
    assert _status(tmp_path, "2024-07-06-b") == "interrupted"
    assert not any((runlog.folder(tmp_path) / ".open").iterdir())


def test_a_run_log_kept_before_the_markers_is_read_once(tmp_path):
    killed = RunRecord("2024-07-06-b", dt.date(2024, 7, 6), STARTED)
    killed.write(tmp_path)
    (runlog.folder(tmp_path) / ".open" / killed.run_id).unlink()
    (runlog.folder(tmp_path) / ".open").rmdir()  # as an older version left it

    runlog.mark_interrupted(tmp_path)

    assert _status(tmp_path, "2024-07-06-b") == "interrupted"
    assert (runlog.folder(tmp_path) / ".open").is_dir()


def test_one_run_record_is_read_from_its_own_file(tmp_path):
    assert runlog.read_one(tmp_path, "2024-07-06-b") is None  # no record yet
    RunRecord("2024-07-06-b", dt.date(2024, 7, 6), STARTED, timings={"dbt": 1.5}).write(tmp_path)
    (runlog.folder(tmp_path) / "2024-07-05-a.parquet").write_bytes(b"not parquet")  # another run's

    row = runlog.read_one(tmp_path, "2024-07-06-b")

    assert (row["run_id"], row["status"], row["timings"]) == (
        "2024-07-06-b",
        "running",
        '{"dbt": 1.5}',
    )


def test_status_reads_only_the_records_written_last(tmp_path):
    for day in range(1, 5):
        RunRecord(
            f"2024-07-0{day}-a",
            dt.date(2024, 7, day),
            STARTED + dt.timedelta(days=day),
            status="success",
        ).write(tmp_path)
    old = runlog.folder(tmp_path) / "2024-07-01-a.parquet"
    old.write_bytes(b"not parquet")  # an old record: never read
    os.utime(old, ns=(1, 1))

    rows = runlog.read_recent(tmp_path, 3)

    assert [r["run_id"] for r in rows] == ["2024-07-02-a", "2024-07-03-a", "2024-07-04-a"]


def test_a_running_record_whose_process_is_gone_shows_as_interrupted_at_once(tmp_path):
    live = RunRecord("2024-07-06-live", dt.date(2024, 7, 6), STARTED)
    live.write(tmp_path)  # this process: alive
    gone = RunRecord("2024-07-06-gone", dt.date(2024, 7, 6), STARTED)
    gone.write(tmp_path)
    (runlog.folder(tmp_path) / ".open" / gone.run_id).write_text("999999999\n")  # no such process
    rows = {r["run_id"]: r for r in runlog.read_all(tmp_path)}
    assert runlog.shown_status(tmp_path, rows[live.run_id]) == "running"
    assert runlog.shown_status(tmp_path, rows[gone.run_id]) == "interrupted"


def test_old_months_are_merged_into_one_file_each_and_still_read(tmp_path):
    """Issue 46: the run log does not grow a file per run forever. A month that ended before
    the given date is merged (open runs stay apart); every reader sees the same records."""

    def record(run_id: str, day: dt.date, status: str = "success") -> RunRecord:
        rec = RunRecord(run_id, day, dt.datetime.combine(day, dt.time(1), dt.UTC), status=status)
        rec.write(tmp_path)
        return rec

    for k in range(3):
        record(f"2024-06-2{k}-x", dt.date(2024, 6, 20 + k))
    record("2024-07-01-x", dt.date(2024, 7, 1))
    open_june = RunRecord("2024-06-30-x", dt.date(2024, 6, 30), STARTED)
    open_june.write(tmp_path)  # running: never merged
    before = runlog.read_all(tmp_path)
    assert runlog.compact(tmp_path, before=dt.date(2024, 7, 8)) == ["2024-06"]
    names = sorted(p.name for p in runlog.folder(tmp_path).glob("*.parquet"))
    assert names == ["2024-06-30-x.parquet", "2024-07-01-x.parquet", "month-2024-06.parquet"]
    assert runlog.read_all(tmp_path) == before
    assert runlog.read_one(tmp_path, "2024-06-21-x")["status"] == "success"
    assert [r["run_id"] for r in runlog.read_recent(tmp_path, 3)] == [
        "2024-06-22-x",
        "2024-07-01-x",
        "2024-06-30-x",
    ]
    record("2024-06-25-y", dt.date(2024, 6, 25))  # a re-run of an old night joins its month
    runlog.compact(tmp_path, before=dt.date(2024, 7, 8))
    assert len(runlog.read_all(tmp_path)) == len(before) + 1
    assert not (runlog.folder(tmp_path) / "2024-06-25-y.parquet").exists()


def test_a_range_s_records_are_read_from_its_own_dates_and_months(tmp_path):
    """Issue 46: a run's result is read from the files of its nights, not from every record
    the data root ever kept; merged months and re-runs of a night included."""

    def record(run_id: str, day: dt.date) -> None:
        started = dt.datetime.combine(day, dt.time(1), dt.UTC)
        RunRecord(run_id, day, started, status="success").write(tmp_path)

    for day in (dt.date(2024, 6, 29), dt.date(2024, 6, 30), dt.date(2024, 7, 1)):
        record(f"{day}-x", day)
    record("2024-06-30-y", dt.date(2024, 6, 30))  # a re-run of the night
    runlog.compact(tmp_path, before=dt.date(2024, 7, 8))  # June merged into one file
    record("2024-07-02-x", dt.date(2024, 7, 2))
    # Other months' and other nights' files are not read: unreadable ones do not matter.
    for other in ("month-2024-05.parquet", "2024-07-03-x.parquet", "2024-08-01-x.parquet"):
        (runlog.folder(tmp_path) / other).write_bytes(b"not parquet")

    found = runlog.read_range(tmp_path, dt.date(2024, 6, 30), dt.date(2024, 7, 2))

    assert [r["run_id"] for r in found] == [
        "2024-06-30-x",
        "2024-06-30-y",
        "2024-07-01-x",
        "2024-07-02-x",
    ]
