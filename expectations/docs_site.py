"""Data docs of our own: one page per run, one index across runs, readable offline.

Great Expectations' own site draws its tables with scripts from public CDNs (blank on a
network that reaches nothing), glues unexpected values together and shows a warning as
"Failed". These pages are plain HTML with inline styles: they open from disk anywhere.

    <data-root>/data_docs/index.html              every run, newest first
    <data-root>/data_docs/<run_id>/index.html     one run: its gates, findings, every check
    <data-root>/data_docs/<run_id>/results.json   what the pages are rendered from
    <data-root>/data_docs/index.json              one summary per run (what the index shows)

Every string may come from upstream (file names, values): the pages are Jinja2 templates
with autoescaping (``templates/``), so all of it is text, never markup.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from fullsite.files import write_text_atomic
from fullsite.pages import render

GATE_ORDER = {"raw": 0, "curated": 1, "marts": 2}
_SAFE_RUN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def run_folder(docs_root: Path, run_key: str) -> Path:
    """The run's folder is named by its run id (ids are ours; anything else is made safe)."""
    name = (
        run_key
        if _SAFE_RUN.match(run_key)
        else re.sub(r"[^A-Za-z0-9._-]+", "_", run_key).strip("._") or "run"
    )
    return Path(docs_root) / name


def record(docs_root: Path, run_key: str, gate: str, entries: list[dict]) -> Path:
    """Add one gate run's evaluated expectations to the run's results, re-render the run's
    page and the index; returns the run's page."""
    folder = run_folder(docs_root, run_key)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    runs = json.loads(results.read_text()) if results.exists() else []
    runs.append(
        {
            "gate": gate,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "entries": entries,
        }
    )
    write_text_atomic(results, json.dumps(runs, indent=1, default=str))
    page = folder / "index.html"
    write_text_atomic(page, render_run(run_key, runs, _notes(folder)))
    write_index(docs_root, {folder.name: _summary(runs)})
    return page


def _notes(folder: Path) -> list[str]:
    try:
        return json.loads((folder / "notes.json").read_text())
    except (OSError, ValueError):
        return []


def record_note(docs_root: Path, run_key: str, note: str) -> Path:
    """A sentence on a run's page (where a backfill's later gates are, say), kept across
    re-renders."""
    folder = run_folder(docs_root, run_key)
    folder.mkdir(parents=True, exist_ok=True)
    notes = [*_notes(folder), note]
    write_text_atomic(folder / "notes.json", json.dumps(notes))
    results = folder / "results.json"
    runs = json.loads(results.read_text()) if results.exists() else []
    page = folder / "index.html"
    write_text_atomic(page, render_run(run_key, runs, notes))
    return page


def record_failure(docs_root: Path, run_key: str, gate: str, where: str, summary: str) -> Path:
    """A stage that stopped the run outside GX (e.g. a failed dbt test) on the run's page."""
    return record(
        docs_root,
        run_key,
        gate,
        [
            {
                "check": "stage",
                "where": where,
                "expectation": "stage succeeds",
                "arguments": {},
                "severity": "error",
                "success": False,
                "summary": summary,
                "unexpected_count": None,
                "observed": None,
                "examples": [],
            }
        ],
    )


def status_of(runs: list[dict]) -> str:
    entries = [e for r in runs for e in r["entries"]]
    if any(not e["success"] and e["severity"] == "error" for e in entries):
        return "failed"
    if any(not e["success"] for e in entries):
        return "warned"
    return "passed"


def render_run(run_key: str, runs: list[dict], notes: list[str] | None = None) -> str:
    by_gate: dict[str, list[dict]] = {}
    for r in runs:
        by_gate.setdefault(r["gate"], []).extend(r["entries"])
    gates = []
    for name in sorted(by_gate, key=lambda g: GATE_ORDER.get(g, 9)):
        entries = [
            {
                **e,
                "result": "passed"
                if e["success"]
                else ("failed" if e["severity"] == "error" else "warned"),
                "arguments_text": ", ".join(f"{k}={v}" for k, v in e["arguments"].items()),
                "found": e["summary"]
                or (f"observed {e['observed']}" if e.get("observed") is not None else ""),
            }
            for e in by_gate[name]
        ]
        failed = [e for e in entries if not e["success"]]
        gates.append(
            {
                "name": name,
                "status": status_of([{"entries": entries}]),
                "entries": entries,
                "failed": failed,
                "errors": [e for e in failed if e["severity"] == "error"],
                "warnings": [e for e in failed if e["severity"] != "error"],
            }
        )
    return render(
        "expectations",
        "run.html.j2",
        run_key=run_key,
        status=status_of(runs),
        gates=gates,
        notes=notes or [],
    )


def _summary(runs: list[dict]) -> dict:
    """What the index shows of one run: a few sentences, not its every check."""
    entries = [e for r in runs for e in r["entries"]]
    failed = [e for e in entries if not e["success"]]
    return {
        "status": status_of(runs),
        "checks": len(entries),
        "gates": sorted({r["gate"] for r in runs}, key=lambda g: GATE_ORDER.get(g, 9)),
        "errors": [e for e in failed if e["severity"] == "error"],
        "warnings": [e for e in failed if e["severity"] != "error"],
    }


def _summaries(docs_root: Path) -> dict[str, dict]:
    """``index.json``: one summary per run, so a night adds its own line instead of every
    night re-reading every run's results (a year of runs stays cheap). Rebuilt from the
    runs' results.json when missing."""
    stored = Path(docs_root) / "index.json"
    try:
        return json.loads(stored.read_text())
    except (OSError, ValueError):
        out = {}
        for results in Path(docs_root).glob("*/results.json"):
            try:
                out[results.parent.name] = _summary(json.loads(results.read_text()))
            except (OSError, ValueError):
                continue
        return out


def write_index(docs_root: Path, updates: dict[str, dict] | None = None) -> Path:
    """The index across runs, newest first (a run id is <ingest date>-<start time>)."""
    Path(docs_root).mkdir(parents=True, exist_ok=True)
    summaries = {**_summaries(docs_root), **(updates or {})}
    write_text_atomic(Path(docs_root) / "index.json", json.dumps(summaries, default=str))
    ordered = [
        (k, summaries[k]) for k in sorted(summaries, key=lambda k: (k[11:], k), reverse=True)
    ]
    index = Path(docs_root) / "index.html"
    write_text_atomic(index, render("expectations", "index.html.j2", runs=ordered))
    return index
