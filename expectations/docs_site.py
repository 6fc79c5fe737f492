"""Data docs of our own: one page per run, one index across runs, readable offline.

Great Expectations' own site draws its tables with scripts from public CDNs (blank on a
network that reaches nothing), glues unexpected values together and shows a warning as
"Failed". These pages are plain HTML with inline styles: they open from disk anywhere.

    <data-root>/data_docs/index.html              every run, newest first
    <data-root>/data_docs/<run_id>/index.html     one run: its gates, findings, every check
    <data-root>/data_docs/<run_id>/results.json   what the pages are rendered from
    <data-root>/data_docs/index.json              one summary per run (what the index shows)

Every string may come from upstream (file names, values): all of it is HTML-escaped.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

from fullsite.files import write_text_atomic

GATE_ORDER = {"raw": 0, "curated": 1, "marts": 2}
_SAFE_RUN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

STYLE = """
:root { --fail: #b42318; --fail-bg: #fef3f2; --warn: #a15c07; --warn-bg: #fffaeb; --ok: #067647; --ok-bg: #ecfdf3;
        --line: #e4e7ec; --muted: #667085; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #101828;
       margin: 0; background: #f9fafb; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 16px 32px; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 0; color: var(--muted); }
main { padding: 24px 32px; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-bottom: 20px; }
h2 { font-size: 16px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { background: #f2f4f7; font-weight: 600; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.failed { color: var(--fail); background: var(--fail-bg); }
.warned { color: var(--warn); background: var(--warn-bg); }
.passed { color: var(--ok); background: var(--ok-bg); }
ul.findings { margin: 4px 0; padding-left: 18px; }
ul.values { margin: 2px 0 0; padding-left: 18px; color: var(--muted); }
.muted { color: var(--muted); }
.nowrap { white-space: nowrap; }
details summary { cursor: pointer; color: #344054; margin: 8px 0; }
input[type=search] { padding: 6px 10px; width: 320px; border: 1px solid #d0d5dd; border-radius: 6px; margin-bottom: 12px; }
a { color: #1849a9; }
"""

FILTER_SCRIPT = """
document.getElementById('filter').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('tbody tr').forEach(function (row) {
    row.style.display = row.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
  });
});
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def run_folder(docs_root: Path, run_key: str) -> Path:
    """The run's folder is named by its run id (ids are ours; anything else is made safe)."""
    name = run_key if _SAFE_RUN.match(run_key) else re.sub(r"[^A-Za-z0-9._-]+", "_", run_key).strip("._") or "run"
    return Path(docs_root) / name


def record(docs_root: Path, run_key: str, gate: str, entries: list[dict]) -> Path:
    """Add one gate run's evaluated expectations to the run's results, re-render the run's
    page and the index; returns the run's page."""
    folder = run_folder(docs_root, run_key)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    runs = json.loads(results.read_text()) if results.exists() else []
    runs.append({"gate": gate, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "entries": entries})
    write_text_atomic(results, json.dumps(runs, indent=1, default=str))
    page = folder / "index.html"
    write_text_atomic(page, render_run(run_key, runs))
    write_index(docs_root, {folder.name: _summary(runs)})
    return page


def record_failure(docs_root: Path, run_key: str, gate: str, where: str, summary: str) -> Path:
    """A stage that stopped the run outside GX (e.g. a failed dbt test) on the run's page."""
    return record(docs_root, run_key, gate, [{
        "check": "stage", "where": where, "expectation": "stage succeeds", "arguments": {}, "severity": "error",
        "success": False, "summary": summary, "unexpected_count": None, "observed": None, "examples": []}])


def status_of(runs: list[dict]) -> str:
    entries = [e for r in runs for e in r["entries"]]
    if any(not e["success"] and e["severity"] == "error" for e in entries):
        return "failed"
    if any(not e["success"] for e in entries):
        return "warned"
    return "passed"


STATUS_TEXT = {"failed": "failed", "warned": "passed with warnings", "passed": "passed"}


def _badge(status: str) -> str:
    return f'<span class="badge {status}">{_e(STATUS_TEXT.get(status, status))}</span>'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _finding_items(entries: list[dict]) -> str:
    items = []
    for e in entries:
        kind = "failed" if e["severity"] == "error" else "warned"
        label = "error" if kind == "failed" else "warning"
        values = "".join(f"<li class=mono>{_e(v)}</li>" for v in e.get("examples") or [])
        items.append(f'<li><span class="badge {kind}">{label}</span> {_e(e["summary"])}'
                     + (f"<ul class=values>{values}</ul>" if values else "") + "</li>")
    return f"<ul class=findings>{''.join(items)}</ul>"


def render_run(run_key: str, runs: list[dict]) -> str:
    status = status_of(runs)
    by_gate: dict[str, list[dict]] = {}
    for r in runs:
        by_gate.setdefault(r["gate"], []).extend(r["entries"])
    sections = []
    for gate in sorted(by_gate, key=lambda g: GATE_ORDER.get(g, 9)):
        entries = by_gate[gate]
        failed = [e for e in entries if not e["success"]]
        gate_status = status_of([{"entries": entries}])
        head = (f"<h2>{_e(gate)} gate {_badge(gate_status)}</h2>"
                f"<p class=muted>{_count(len(entries), 'check')}, {_count(sum(e['severity'] == 'error' for e in failed), 'error')}, "
                f"{_count(sum(e['severity'] != 'error' for e in failed), 'warning')}</p>")
        rows = []
        for e in entries:
            result = "passed" if e["success"] else ("failed" if e["severity"] == "error" else "warned")
            args = ", ".join(f"{k}={v}" for k, v in e["arguments"].items())
            found = e["summary"] or (f"observed {e['observed']}" if e.get("observed") is not None else "")
            rows.append(f"<tr><td>{_e(e['where'])}</td><td>{_e(e['expectation'])}<br><span class='muted mono'>{_e(args)}</span></td>"
                        f"<td>{_badge(result)}</td><td class=num>{_e(e.get('unexpected_count') if e.get('unexpected_count') is not None else '')}</td>"
                        f"<td>{_e(found)}</td></tr>")
        table = ("<details><summary>All checks of this gate</summary><table><thead><tr><th>Where</th><th>Expectation</th>"
                 "<th>Result</th><th>Rows</th><th>Found</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></details>")
        sections.append(f"<section>{head}{_finding_items(failed) if failed else '<p>Every check passed.</p>'}{table}</section>")
    ingest = run_key[:10]
    return _page(f"Gate results · run {run_key}",
                 f"<h1>Run {_e(run_key)} {_badge(status)}</h1><p>Ingest date {_e(ingest)} · "
                 f"<a href='../index.html'>all runs</a></p>", "".join(sections))


def _summary(runs: list[dict]) -> dict:
    """What the index shows of one run: a few sentences, not its every check."""
    entries = [e for r in runs for e in r["entries"]]
    failed = [e for e in entries if not e["success"]]
    return {"status": status_of(runs), "checks": len(entries),
            "gates": sorted({r["gate"] for r in runs}, key=lambda g: GATE_ORDER.get(g, 9)),
            "errors": [e for e in failed if e["severity"] == "error"],
            "warnings": [e for e in failed if e["severity"] != "error"]}


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
    rows = []
    for run_key in sorted(summaries, key=lambda k: (k[11:], k), reverse=True):
        r = summaries[run_key]
        rows.append(f"<tr><td class=nowrap><a href='{_e(run_key)}/index.html' class=mono>{_e(run_key)}</a></td>"
                    f"<td class=nowrap>{_e(run_key[:10])}</td><td>{_badge(r['status'])}</td><td>{_e(', '.join(r['gates']))}</td>"
                    f"<td class=num>{r['checks']}</td><td>{_finding_items(r['errors']) if r['errors'] else ''}</td>"
                    f"<td>{_finding_items(r['warnings']) if r['warnings'] else ''}</td></tr>")
    body = ("<section><input type=search id=filter placeholder='Filter runs, dates, tables, messages…'>"
            "<table><thead><tr><th>Run</th><th>Ingest date</th><th>Status</th><th>Gates</th><th>Checks</th>"
            "<th>Failing checks</th><th>Warnings</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>")
    index = Path(docs_root) / "index.html"
    write_text_atomic(index, _page("Gate results · all runs",
                                   f"<h1>Gate results</h1><p>{len(rows)} runs, newest first. Each run's page lists every check.</p>",
                                   body, script=FILTER_SCRIPT))
    return index


def _page(title: str, header: str, body: str, script: str = "") -> str:
    js = f"<script>{script}</script>" if script else ""
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body><header>{header}</header><main>{body}</main>{js}</body></html>")
