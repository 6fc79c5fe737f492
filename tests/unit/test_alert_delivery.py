"""Alerts get through (issue 44): a receiver that fails is tried again, backing off, until it
takes the alert or an operator acknowledges it; meanwhile `fullsite status` shows it; a
receiver that hangs holds the caller a few seconds, not the night."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from fullsite.layout import Layout
from orchestration import alerts
from orchestration.cli import app
from tests.servers import WebhookServer


def _alert(key: str = "failed/run-1") -> alerts.Alert:
    return alerts.Alert(
        key=key,
        ingest_date="2024-08-02",
        status="failed",
        stage="raw",
        summary="the night 2024-08-02 failed",
        findings=["clicks dt=2024-08-02: cut short"],
    )


def _status(root) -> dict:
    done = CliRunner().invoke(app, ["status", "--data-root", str(root), "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_an_alert_a_webhook_refused_is_shown_and_retried_until_it_is_taken(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "raw").mkdir(parents=True)
    layout = Layout(root)
    with WebhookServer(statuses=[500, 500, 200]) as hook:
        monkeypatch.setenv("FULLSITE_ALERT_WEBHOOK_URL", hook.url)
        outcome = alerts.tell(layout, _alert())
        assert outcome["webhook"].startswith("not delivered: HTTPError: HTTP Error 500")
        assert hook.requests == alerts.TRIES  # tried at once, then given up for now
        (pending,) = alerts.undelivered(layout)
        assert [a["key"] for a in _status(root)["undelivered_alerts"]] == ["failed/run-1"]
        assert alerts.retry(layout, pending.last_at) == []  # not due yet: backing off
        later = pending.next_try() + dt.timedelta(seconds=1)
        ((_, again),) = alerts.retry(layout, later)
        assert (
            again == {"webhook": "sent"}
            and hook.bodies[0]["summary"] == "the night 2024-08-02 failed"
        )
    assert alerts.undelivered(layout) == [] and _status(root)["undelivered_alerts"] == []
    assert alerts.tell(layout, _alert()) == {}  # the same event: told once


def test_an_operator_can_stop_the_retries_and_a_hanging_receiver_times_out(tmp_path, monkeypatch):
    root = tmp_path / "root"
    (root / "raw").mkdir(parents=True)
    layout = Layout(root)
    with WebhookServer(hang=alerts.TIMEOUT_S + 2) as hook:
        monkeypatch.setenv("FULLSITE_ALERT_WEBHOOK_URL", hook.url)
        outcome = alerts.tell(layout, _alert("late/2024-08-03"))
    assert "timed out" in outcome["webhook"]
    done = CliRunner().invoke(
        app, ["acknowledge", "--data-root", str(root), "--alert", "late/2024-08-03"]
    )
    assert done.exit_code == 0 and "acknowledged 1 alert" in done.output
    assert alerts.undelivered(layout) == []
