"""Unattended nights (issue 36): a night starts when its files have landed, someone is told
when a night fails or is late or publishes with warnings, a partition rewritten after its
night is named, and what is published is read from the published file. The alerts go to
real servers on 127.0.0.1 (tests/servers.py). Every night here is made on a copy of the
shared published root (tests/conftest.py published_root)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from fullsite import landing
from fullsite.contract import SCHEMAS
from fullsite.layout import Layout
from orchestration import definitions as d
from orchestration import runlog, state, watch
from orchestration.alerts import sent, tell
from orchestration.launch import instance
from tests.conftest import FIRST, NEXT, PUBLISHED
from tests.runs import night, one_record, through_dagster_api
from tests.servers import SmtpServer, WebhookServer

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _aside(root: Path, day: dt.date) -> Path:
    """Every table's partition of ``day`` moved out of the landing zone (not landed yet)."""
    held = root / "upstream"
    for table in SCHEMAS:
        source = Layout(root).raw(table, day)
        if source.exists():
            (held / table).mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), held / table / source.name)
    return held


def _land(root: Path, held: Path, day: dt.date, *tables: str) -> None:
    for table in tables:
        shutil.move(str(held / table / f"dt={day}"), Layout(root).raw(table, day))


def _alert_env(
    monkeypatch, smtp: SmtpServer | None, hook: WebhookServer | None, dead: bool = False
) -> None:
    monkeypatch.setenv("FULLSITE_ALERT_EMAIL_FROM", "fullsite@example.test")
    monkeypatch.setenv("FULLSITE_ALERT_EMAIL_TO", "operators@example.test")
    # 9: nobody listens
    monkeypatch.setenv("FULLSITE_ALERT_SMTP", smtp.address if smtp else "127.0.0.1:9")
    monkeypatch.setenv(
        "FULLSITE_ALERT_WEBHOOK_URL", hook.url if hook else "http://127.0.0.1:9/hook"
    )


def _sensor(root: Path, inst):
    with dg.build_sensor_context(
        instance=inst, resources={"fullsite": d.FullsiteResource(data_root=str(root))}
    ) as context:
        return d.landing_sensor(context)


def test_the_sensor_starts_a_night_once_it_is_complete_and_a_failing_night_tells_once(
    scratch_root, spark, monkeypatch
):
    """The night NEXT lands table by table; the sensor waits until it is complete, then asks
    for exactly that night (one run key); the night fails at the raw gate (a file breaking
    the contract), and one email and one webhook carry the gate's sentence."""
    root = scratch_root
    held = _aside(root, NEXT)
    clicks = held / "clicks" / f"dt={NEXT}"
    table = pq.read_table(next(clicks.glob("*.parquet")))
    pq.write_table(
        table.set_column(
            table.schema.get_field_index("cost"), "cost", table.column("cost").cast(pa.float64())
        ),
        clicks / "part-9999.parquet",
    )
    before_deadline = dt.datetime.combine(NEXT + dt.timedelta(days=1), dt.time(0, 30), SHANGHAI)
    monkeypatch.setattr(d, "_now", lambda: before_deadline)
    with instance(root) as inst, SmtpServer() as smtp, WebhookServer() as hook:
        _alert_env(monkeypatch, smtp, hook)
        waiting = _sensor(root, inst)
        assert (
            isinstance(waiting, dg.SkipReason)
            and "merchants, products, campaign_changes" in waiting.skip_message
        )
        _land(root, held, NEXT, "merchants", "products")
        assert "waiting for campaign_changes" in _sensor(root, inst).skip_message
        _land(root, held, NEXT, "campaign_changes", "impressions", "clicks", "saves")
        assert _sensor(root, inst).skip_message == (
            f"dt={NEXT} is waiting for purchases; later nights that landed wait "
            f"for it (a gap, never jumped): {NEXT + dt.timedelta(days=1)}, "
            f"{NEXT + dt.timedelta(days=2)}"
        )
        _land(root, held, NEXT, "purchases")
        asked = _sensor(root, inst)
        assert [(r.run_key, r.partition_key) for r in asked.run_requests] == [
            (f"night-{NEXT}", str(NEXT))
        ]

        result = through_dagster_api(root, NEXT)  # as the daemon launches the request
        assert not result.success
        # same key: never a second run
        assert [(r.run_key) for r in _sensor(root, inst).run_requests] == [f"night-{NEXT}"]
    sentence = (
        f"raw gate: clicks dt={NEXT} part-9999.parquet: column cost is DOUBLE, "
        "contract says DECIMAL(18,2)"
    )
    assert len(smtp.messages) == 1 and len(hook.bodies) == 1
    mail, body = smtp.messages[0], hook.bodies[0]
    assert (
        str(NEXT) in mail["Subject"] and sentence.removeprefix("raw gate: ") in mail.get_content()
    )
    assert mail["Subject"].count(str(NEXT)) == 1 and "Stage: raw gate" in mail.get_content()
    # what the reader does next, said in the message
    rerun = f"fullsite run --data-root {root} --date {NEXT}"
    assert rerun in mail.get_content() and rerun in body["next_step"]
    assert (body["ingest_date"], body["status"], body["stage"]) == (str(NEXT), "failed", "raw")
    assert (
        body["findings"] == [sentence.removeprefix("raw gate: ")]
        and Path(body["data_docs"]).is_file()
    )


def test_a_missing_event_table_holds_a_night_only_until_its_landing_deadline(scratch_root):
    root = scratch_root
    held = _aside(root, NEXT)
    _land(
        root,
        held,
        NEXT,
        "merchants",
        "products",
        "campaign_changes",
        "impressions",
        "clicks",
        "saves",
    )
    layout = Layout(root)
    deadline = landing.event_deadline(NEXT, 2)
    early = watch.next_night(layout, deadline - dt.timedelta(minutes=1))
    late = watch.next_night(layout, deadline)
    assert (early.night, late.night) == (None, NEXT)
    assert "purchases never landed" in late.said
    _land(root, held, NEXT, "purchases")
    # a marker counts as landed too
    (Layout(root).raw("purchases", NEXT) / landing.SUCCESS_MARKER).touch()
    assert watch.next_night(layout, deadline - dt.timedelta(hours=5)).night == NEXT
    # a later night that landed never jumps an earlier one that did not
    shutil.rmtree(Layout(root).raw("products", NEXT))
    gap = watch.next_night(layout, deadline + dt.timedelta(days=3))
    assert gap.night is None and "waiting for products" in gap.said


def test_a_night_past_its_deadline_is_told_once(scratch_root, monkeypatch):
    layout = Layout(scratch_root)
    deadline = watch.publish_deadline(NEXT)
    assert watch.overdue(layout, deadline - dt.timedelta(seconds=1)) is None
    late = watch.overdue(layout, deadline)
    assert late is not None and late.key == f"late/{NEXT}" and late.ingest_date == str(NEXT)
    with SmtpServer() as smtp, WebhookServer() as hook:
        _alert_env(monkeypatch, smtp, hook)
        assert tell(layout, late) == {"email": "sent", "webhook": "sent"}
        # the same event: once
        assert tell(layout, watch.overdue(layout, deadline + dt.timedelta(hours=1))) == {}
    assert len(smtp.messages) == 1 and hook.bodies[0]["status"] == "late"


def test_rewritten_history_is_named_with_its_rows_and_an_undeliverable_alert_fails_nothing(
    scratch_root, spark, monkeypatch
):
    """A file added to an ingested partition, one rewritten in place and one removed are named
    by the next run with their rows; the night still publishes; the warning digest cannot
    be delivered (nobody listens) and says so in dq/alerts.jsonl; the findings stay open
    until acknowledged."""
    root, layout = scratch_root, Layout(scratch_root)
    clicks = sorted(layout.raw("clicks", FIRST).glob("*.parquet"))[0]
    shutil.copy(clicks, clicks.with_name("part-7.parquet"))  # added
    saves = sorted(layout.raw("saves", FIRST).glob("*.parquet"))[0]
    pq.write_table(pq.read_table(saves).slice(0, 5), saves)  # rewritten in place
    gone = sorted(layout.raw("purchases", PUBLISHED).glob("*.parquet"))[0]
    gone_rows = pq.ParquetFile(gone).metadata.num_rows
    gone.unlink()  # removed
    _alert_env(monkeypatch, None, None)
    night(root, NEXT)
    found = {f["kind"]: f for f in landing.open_findings(layout)}
    rows = pq.ParquetFile(clicks).metadata.num_rows
    assert found["appeared"]["finding"] == (
        f"clicks dt={FIRST}: part-7.parquet appeared after the night was ingested "
        f"({rows:,} rows not counted)"
    )
    assert (
        found["changed"]["finding"].startswith(f"saves dt={FIRST}: {saves.name} was rewritten")
        and "(5 rows" in found["changed"]["finding"]
    )
    assert found["disappeared"]["finding"] == (
        f"purchases dt={PUBLISHED}: {gone.name} was removed after the night was "
        f"ingested ({gone_rows:,} rows counted but gone)"
    )
    assert state.last_success(root) == NEXT
    told = [json.loads(line) for line in (root / "dq" / "alerts.jsonl").read_text().splitlines()]
    assert told[-1]["status"] == "published_with_warnings"
    # the gate's own sentence
    assert any(found["appeared"]["finding"] in line for line in told[-1]["findings"])
    assert told[-1]["outcome"]["email"].startswith("not delivered") and told[-1]["outcome"][
        "webhook"
    ].startswith("not delivered")
    assert (
        landing.acknowledge(layout)
        and landing.open_findings(layout) == []
        and landing.changes(layout, NEXT) == []
    )


def test_what_is_published_is_read_from_the_file_itself(scratch_root):
    """A run killed in the instant after the file swap: the published file says its night is
    published, whatever the side file and the run log say; the run is shown interrupted, as
    Dagster records it (FAILURE), saying its night is published (issue 44)."""
    layout = Layout(scratch_root)
    made = state.published_build(scratch_root)
    assert made is not None and made.data_through == PUBLISHED
    layout.last_success_file.write_text(
        json.dumps({"ingest_date": str(PUBLISHED - dt.timedelta(days=1))})
    )  # lagging
    assert state.last_success(scratch_root) == PUBLISHED
    # its record still says running
    rec = runlog.RunRecord(made.run_id, PUBLISHED, dt.datetime.now(dt.UTC))
    rec.write(scratch_root)
    # its process is gone
    (runlog.folder(scratch_root) / ".open" / made.run_id).write_text("999999999\n")
    assert (
        runlog.shown_status(scratch_root, runlog.read_one(scratch_root, made.run_id), made.run_id)
        == "interrupted"
    )
    runlog.mark_interrupted(scratch_root, made.run_id)
    after = runlog.read_one(scratch_root, made.run_id)
    assert after["status"] == "interrupted" and after["message"] == runlog.PUBLISHED_THEN_ENDED


def test_a_brief_never_drawn_is_owed_and_drawn_by_the_next_look(scratch_root):
    from publications.brief import draw_briefs, owed_briefs

    layout = Layout(scratch_root)
    layout.brief(PUBLISHED).unlink()
    assert PUBLISHED in owed_briefs(layout)
    assert PUBLISHED in draw_briefs(layout) and layout.brief(PUBLISHED).exists()


def test_a_refused_run_is_one_line_and_recorded_as_refused(scratch_root):
    with state.run_lock(scratch_root):  # another run holds the lock
        result = through_dagster_api(scratch_root, NEXT)
    # nothing ran: not a success
    assert not result.success and not result.get_asset_materialization_events()
    with instance(scratch_root) as inst:
        tags = inst.get_run_by_id(result.run_id).tags
    assert tags[d.REFUSED].startswith("another run holds")
    last = runlog.read_all(scratch_root)[-1]
    assert (last["status"], last["ingest_date"]) == (
        "refused",
        NEXT,
    ) and "another run holds" in last["message"]
    assert one_record(scratch_root, result.run_id) == "refused"
    con = duckdb.connect(str(scratch_root / "warehouse.duckdb"), read_only=True)
    try:  # the published file is untouched: the refused record is only in the run log
        assert (
            con.execute("select data_through from params.warehouse_build").fetchone()[0]
            == PUBLISHED
        )
    finally:
        con.close()
    assert sent(Layout(scratch_root)) == set()  # a refusal is not a failure: nobody is woken


def test_a_copy_of_old_data_is_said_to_be_unfed_once_not_late(scratch_root, monkeypatch):
    """Issue 44: starting the sensors on a copy of old data (the demo's 2024 nights) says once
    that nobody feeds it, instead of a "late" alert at once; a night just past its deadline
    says in words that nobody was told when no channel is configured."""
    layout = Layout(scratch_root)
    deadline = watch.publish_deadline(NEXT)
    years_later = deadline + dt.timedelta(days=800)
    assert watch.overdue(layout, years_later) is None
    said = watch.stale(layout, years_later)
    assert said and said.startswith(f"the next night, {NEXT}, was due") and "is not fed" in said
    for name in (
        "FULLSITE_ALERT_SMTP",
        "FULLSITE_ALERT_EMAIL_FROM",
        "FULLSITE_ALERT_EMAIL_TO",
        "FULLSITE_ALERT_WEBHOOK_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    with instance(scratch_root) as inst:
        for now, words in (
            (years_later, "is not fed"),
            (deadline + dt.timedelta(hours=1), "is late: not told: no alert channel is configured"),
        ):
            monkeypatch.setattr(d, "_now", lambda now=now: now)
            with dg.build_sensor_context(
                instance=inst,
                resources={"fullsite": d.FullsiteResource(data_root=str(scratch_root))},
            ) as context:
                skipped = d.deadline_sensor(context)
            assert words in skipped.skip_message, skipped.skip_message
    # only the recent lateness was an alert (written down, undelivered)
    assert sent(layout) == {f"late/{NEXT}"}
