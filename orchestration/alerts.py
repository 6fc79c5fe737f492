"""Telling someone (issue 36): one message per event — a night failed, a night published
with warnings (one digest), a night not published by its deadline — by email over SMTP
and to a webhook, each configured by environment variables or ``<data-root>/fullsite.toml``:

    FULLSITE_ALERT_SMTP=host:port  FULLSITE_ALERT_EMAIL_FROM=…  FULLSITE_ALERT_EMAIL_TO=a@x,b@y
    FULLSITE_ALERT_WEBHOOK_URL=https://…

    # <data-root>/fullsite.toml (the environment wins)
    [alerts]
    smtp = "host:port"
    email_from = "…"
    email_to = ["a@x"]
    webhook_url = "https://…"
    docs_url = "https://fullsite.example.com/root"   # optional: data-docs pages shown under it

Each message names the ingest date, the stage or gate, the findings as the gates' own
sentences and the data-docs page; the webhook receives them as JSON (``ingest_date``,
``status``, ``stage``, ``findings``, ``data_docs``). An alert that cannot be delivered is
written in words to ``dq/alerts.jsonl`` and never fails or undoes a night; every alert
sent is there too, which is how each event is told once.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import tomllib
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path

from fullsite.layout import Layout

TIMEOUT_S = 10
GATE_STAGES = ("raw", "curated", "marts")  # the pipeline's gates, in order (their Dagster checks: definitions.GATES)


@dataclass(frozen=True)
class Alert:
    key: str                     # one event, one message: e.g. "failed/<run id>", "late/2024-08-03"
    ingest_date: str
    status: str                  # failed | published_with_warnings | late
    stage: str                   # the gate or stage (raw, curated, marts, spark, …) or "publication"
    summary: str
    findings: list[str] = field(default_factory=list)
    data_docs: str | None = None
    next_step: str | None = None  # what the reader does now, in words (an operator at 07:00)

    def subject(self) -> str:
        # The summary usually names the night already: say the date once.
        said = self.ingest_date in self.summary
        return f"[fullsite] {self.summary}" if said else f"[fullsite] {self.ingest_date}: {self.summary}"

    def body(self) -> str:
        stage = f"{self.stage} gate" if self.stage in GATE_STAGES else self.stage
        lines = [self.summary[:1].upper() + self.summary[1:] + ".", "",
                 f"Ingest date: {self.ingest_date}", f"Status: {self.status}", f"Stage: {stage}", "", "Findings:"]
        lines += [f"- {f}" for f in self.findings] or ["(no findings recorded)"]
        if self.data_docs:
            lines += ["", f"Data docs: {self.data_docs}"]
        if self.next_step:
            lines += ["", f"What to do: {self.next_step}"]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict:
        return {"ingest_date": self.ingest_date, "status": self.status, "stage": self.stage,
                "summary": self.summary, "findings": list(self.findings), "data_docs": self.data_docs,
                "next_step": self.next_step}


@dataclass(frozen=True)
class Channels:
    smtp: tuple[str, int] | None = None
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    webhook_url: str | None = None
    docs_url: str | None = None  # where the data root's pages are served: paths are shown under it

    @property
    def email(self) -> bool:
        return bool(self.smtp and self.email_from and self.email_to)

    def described(self) -> str:
        said = []
        if self.email:
            said.append(f"email via {self.smtp[0]}:{self.smtp[1]} to {', '.join(self.email_to)}")  # type: ignore[index]
        if self.webhook_url:
            said.append(f"webhook {self.webhook_url}")
        return "; ".join(said) or "not configured (FULLSITE_ALERT_* or fullsite.toml [alerts])"


class ConfigError(Exception):
    """An alert setting that cannot be used (one line)."""


def channels(layout: Layout) -> Channels:
    """The configured channels: ``fullsite.toml`` ``[alerts]``, overridden by the environment."""
    conf: dict = {}
    toml = layout.root / "fullsite.toml"
    if toml.is_file():
        try:
            conf = tomllib.loads(toml.read_text()).get("alerts", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml}: {exc}") from None
    env = os.environ
    smtp = env.get("FULLSITE_ALERT_SMTP") or conf.get("smtp")
    to = env.get("FULLSITE_ALERT_EMAIL_TO") or conf.get("email_to") or ()
    if isinstance(to, str):
        to = [t.strip() for t in to.split(",") if t.strip()]
    host_port = None
    if smtp:
        host, _, port = str(smtp).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"FULLSITE_ALERT_SMTP must be host:port, got {smtp!r}")
        host_port = (host, int(port))
    return Channels(host_port, env.get("FULLSITE_ALERT_EMAIL_FROM") or conf.get("email_from"), tuple(to),
                    env.get("FULLSITE_ALERT_WEBHOOK_URL") or conf.get("webhook_url"),
                    env.get("FULLSITE_DOCS_URL") or conf.get("docs_url"))


def shown_path(layout: Layout, path: str | None, docs_url: str | None) -> str | None:
    """A file of the data root as its reader can open it: under ``docs_url`` (FULLSITE_DOCS_URL,
    or ``[alerts] docs_url``) when an operator serves the data root's pages there — a reader of
    an email cannot open the server's local path — else the path itself (issue 47)."""
    if not path or not docs_url:
        return path
    try:
        relative = Path(path).resolve().relative_to(layout.root)
    except ValueError:
        return path
    return docs_url.rstrip("/") + "/" + urllib.parse.quote(relative.as_posix())


def docs_url(layout: Layout) -> str | None:
    """The configured base URL of the data root's pages (None: show local paths)."""
    try:
        return channels(layout).docs_url
    except ConfigError:
        return None


def _log(layout: Layout) -> Path:
    return layout.root / "dq" / "alerts.jsonl"


def sent(layout: Layout) -> set[str]:
    """The keys of every alert already told (delivered on at least one channel, or attempted)."""
    try:
        return {json.loads(line)["key"] for line in _log(layout).read_text().splitlines() if line.strip()}
    except (OSError, ValueError, KeyError):
        return set()


def _email(ch: Channels, alert: Alert) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = alert.subject(), ch.email_from, ", ".join(ch.email_to)
    msg.set_content(alert.body())
    host, port = ch.smtp  # type: ignore[misc]
    with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as server:
        server.send_message(msg)


def _webhook(ch: Channels, alert: Alert) -> None:
    request = urllib.request.Request(ch.webhook_url or "", data=json.dumps(alert.payload()).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - an operator's URL
        response.read()


def tell(layout: Layout, alert: Alert) -> dict[str, str]:
    """Send ``alert`` on every configured channel, once per key; never raises. Returns what
    happened per channel ("sent", or why not), as written to ``dq/alerts.jsonl``."""
    if alert.key in sent(layout):
        return {}
    try:
        ch = channels(layout)
    except ConfigError as exc:
        outcome = {"config": f"not sent: {exc}"}
    else:
        alert = replace(alert, data_docs=shown_path(layout, alert.data_docs, ch.docs_url))
        outcome = {}
        for name, enabled, send in (("email", ch.email, _email), ("webhook", bool(ch.webhook_url), _webhook)):
            if not enabled:
                continue
            try:
                send(ch, alert)
                outcome[name] = "sent"
            except Exception as exc:  # noqa: BLE001 - a lost alert is written down, never raised into the night
                outcome[name] = f"not delivered: {type(exc).__name__}: {exc}"
        if not outcome:
            outcome["none"] = "no channel configured"
    try:
        _log(layout).parent.mkdir(parents=True, exist_ok=True)
        with open(_log(layout), "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **asdict(alert),
                                 "outcome": outcome}) + "\n")
    except OSError:
        pass
    return outcome
