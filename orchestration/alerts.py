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
import smtplib
import time
import tomllib
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path

from fullsite import settings
from fullsite.layout import Layout

TIMEOUT_S = 3  # per attempt: a hanging receiver never holds a night for long
TRIES, PAUSE_S = 2, 0.5  # a dropped connection gets one more try at once
RETRY_FIRST_S, RETRY_MAX_S = 60, 3600  # then the retry sensor: a minute, doubling, at most an hour
# the pipeline's gates, in order (their Dagster checks: definitions.GATES)
GATE_STAGES = (
    "raw",
    "curated",
    "marts",
)


@dataclass(frozen=True)
class Alert:
    key: str  # one event, one message: e.g. "failed/<run id>", "late/2024-08-03"
    ingest_date: str
    status: str  # failed | published_with_warnings | late
    stage: str  # the gate or stage (raw, curated, marts, spark, …) or "publication"
    summary: str
    findings: list[str] = field(default_factory=list)
    data_docs: str | None = None
    next_step: str | None = None  # what the reader does now, in words (an operator at 07:00)

    def subject(self) -> str:
        # The summary usually names the night already: say the date once.
        said = self.ingest_date in self.summary
        return (
            f"[fullsite] {self.summary}"
            if said
            else f"[fullsite] {self.ingest_date}: {self.summary}"
        )

    def body(self) -> str:
        stage = f"{self.stage} gate" if self.stage in GATE_STAGES else self.stage
        lines = [
            self.summary[:1].upper() + self.summary[1:] + ".",
            "",
            f"Ingest date: {self.ingest_date}",
            f"Status: {self.status}",
            f"Stage: {stage}",
            "",
            "Findings:",
        ]
        lines += [f"- {f}" for f in self.findings] or ["(no findings recorded)"]
        if self.data_docs:
            lines += ["", f"Data docs: {self.data_docs}"]
        if self.next_step:
            lines += ["", f"What to do: {self.next_step}"]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict:
        return {
            "ingest_date": self.ingest_date,
            "status": self.status,
            "stage": self.stage,
            "summary": self.summary,
            "findings": list(self.findings),
            "data_docs": self.data_docs,
            "next_step": self.next_step,
        }


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
    smtp = settings.get("FULLSITE_ALERT_SMTP") or conf.get("smtp")
    to = settings.get("FULLSITE_ALERT_EMAIL_TO") or conf.get("email_to") or ()
    if isinstance(to, str):
        to = [t.strip() for t in to.split(",") if t.strip()]
    host_port = None
    if smtp:
        host, _, port = str(smtp).rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"FULLSITE_ALERT_SMTP must be host:port, got {smtp!r}")
        host_port = (host, int(port))
    return Channels(
        smtp=host_port,
        email_from=settings.get("FULLSITE_ALERT_EMAIL_FROM") or conf.get("email_from"),
        email_to=tuple(to),
        webhook_url=settings.get("FULLSITE_ALERT_WEBHOOK_URL") or conf.get("webhook_url"),
        docs_url=settings.get("FULLSITE_DOCS_URL") or conf.get("docs_url"),
    )


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
    return {line["key"] for line in _lines(layout) if "outcome" in line}


def _lines(layout: Layout) -> list[dict]:
    try:
        text = _log(layout).read_text(encoding="utf-8")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:  # a line cut by a full disk: the rest still counts
            continue
    return [x for x in found if isinstance(x, dict) and "key" in x]


def _email(ch: Channels, alert: Alert) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = alert.subject(), ch.email_from, ", ".join(ch.email_to)
    msg.set_content(alert.body())
    host, port = ch.smtp  # type: ignore[misc]
    with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as server:
        server.send_message(msg)


def _webhook(ch: Channels, alert: Alert) -> None:
    request = urllib.request.Request(
        ch.webhook_url or "",
        data=json.dumps(alert.payload()).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - an operator's URL
        response.read()


SENDERS = {"email": _email, "webhook": _webhook}


def _configured(ch: Channels) -> list[str]:
    return [name for name, on in (("email", ch.email), ("webhook", bool(ch.webhook_url))) if on]


def _deliver(ch: Channels, alert: Alert, names: list[str]) -> dict[str, str]:
    """Each channel of ``names``: ``TRIES`` attempts, ``PAUSE_S`` apart, each at most
    ``TIMEOUT_S`` — a dead or hanging receiver holds a night a few seconds, never longer."""
    outcome = {}
    for name in names:
        for attempt in range(TRIES):
            try:
                SENDERS[name](ch, alert)
                outcome[name] = "sent"
                break
            except Exception as exc:  # noqa: BLE001 - a lost alert is written down, never raised into the night
                outcome[name] = f"not delivered: {type(exc).__name__}: {exc}"
                if attempt + 1 < TRIES:
                    time.sleep(PAUSE_S)
    return outcome


def _write(layout: Layout, entry: dict) -> None:
    try:
        _log(layout).parent.mkdir(parents=True, exist_ok=True)
        with open(_log(layout), "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **entry})
                + "\n"
            )
    except OSError:
        pass


def tell(layout: Layout, alert: Alert) -> dict[str, str]:
    """Send ``alert`` on every configured channel, once per key; never raises. Returns what
    happened per channel ("sent", or why not), as written to ``dq/alerts.jsonl``; a channel
    that did not take it is retried later (``retry``) until it does or an operator
    acknowledges it."""
    if alert.key in sent(layout):
        return {}
    try:
        ch = channels(layout)
    except ConfigError as exc:
        outcome = {"config": f"not sent: {exc}"}
    else:
        alert = replace(alert, data_docs=shown_path(layout, alert.data_docs, ch.docs_url))
        outcome = _deliver(ch, alert, _configured(ch)) or {"none": "no channel configured"}
    _write(layout, {**asdict(alert), "outcome": outcome})
    return outcome


@dataclass(frozen=True)
class Pending:
    """An alert a channel has not taken yet."""

    alert: Alert
    channels: dict[str, str]  # channel → its last outcome (not "sent")
    attempts: int
    last_at: dt.datetime

    def next_try(self) -> dt.datetime:
        """Backing off: a minute after the first attempt, doubling, at most an hour apart."""
        wait = min(RETRY_FIRST_S * 2 ** (self.attempts - 1), RETRY_MAX_S)
        return self.last_at + dt.timedelta(seconds=wait)

    def said(self) -> str:
        why = "; ".join(f"{name}: {what}" for name, what in self.channels.items())
        return (
            f"{self.alert.key} ({self.alert.summary}): {why} — {self.attempts} "
            f"attempt{'s' if self.attempts != 1 else ''}, last {self.last_at:%Y-%m-%d %H:%M} UTC"
        )


def undelivered(layout: Layout) -> list[Pending]:
    """Alerts a configured channel has not taken, and no operator acknowledged: shown in
    ``fullsite status`` and retried by the ``alert_retry_sensor``."""
    state: dict[str, dict] = {}
    for line in _lines(layout):
        seen = state.setdefault(line["key"], {"channels": {}, "attempts": 0, "acknowledged": False})
        if line.get("acknowledged"):
            seen["acknowledged"] = True
            continue
        fields: dict = {k: line.get(k) for k in Alert.__dataclass_fields__}
        seen.update(
            alert=Alert(**fields),
            attempts=seen["attempts"] + 1,
            last_at=dt.datetime.fromisoformat(line["at"]),
        )
        seen["channels"].update(line.get("outcome") or {})
    return [
        Pending(
            s["alert"],
            {c: o for c, o in s["channels"].items() if c in SENDERS and o != "sent"},
            s["attempts"],
            s["last_at"],
        )
        for s in state.values()
        if not s["acknowledged"]
        and "alert" in s
        and any(c in SENDERS and o != "sent" for c, o in s["channels"].items())
    ]


def retry(layout: Layout, now: dt.datetime) -> list[tuple[Pending, dict[str, str]]]:
    """Deliver again, on the channels that did not take them, the undelivered alerts whose
    next try is due; returns what each attempt did."""
    try:
        ch = channels(layout)
    except ConfigError:
        return []
    done = []
    for pending in undelivered(layout):
        if pending.next_try() > now:
            continue
        names = [n for n in pending.channels if n in _configured(ch)]
        outcome = _deliver(ch, pending.alert, names)
        _write(layout, {**asdict(pending.alert), "outcome": outcome, "retry": True})
        done.append((pending, outcome))
    return done


def acknowledge(layout: Layout, keys: list[str] | None = None) -> list[Pending]:
    """An operator has read them elsewhere: no more retries (all, or those of ``keys``)."""
    closing = [p for p in undelivered(layout) if keys is None or p.alert.key in keys]
    for pending in closing:
        _write(layout, {"key": pending.alert.key, "acknowledged": True})
    return closing
