"""The semantic layer's metrics, answered from a published warehouse, read-only.

Every figure people read is a metric of the dbt project (``models/semantic``): MetricFlow
compiles a question — metrics, group-by items, a time range — into SQL from the project's
semantic manifest, and that SQL runs on a read-only DuckDB connection to the published
file. So the brief, ``fullsite metrics`` and an analyst get the same number from the same
definition, never from the staging file and never holding a lock: a publication replaces
the file under an open connection, which keeps reading the build it opened.

    frame = ask(con, ["full_site_roi", "natural_gmv"], ["metric_time__week",
    "merchant__merchant_tier"])
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from fullsite import dbt_artifacts
from fullsite.duck import scalar


class MetricQueryError(Exception):
    """A question the semantic layer cannot answer (an unknown metric or group-by), in one line."""


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str


class _CompileOnly:
    """What MetricFlow needs of a SQL client to compile (its dialect); the SQL runs elsewhere."""

    def __init__(self):
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type, self.sql_plan_renderer = SqlEngine.DUCKDB, DuckDbSqlPlanRenderer()

    def query(self, *args, **kwargs):
        raise NotImplementedError("fullsite runs MetricFlow's SQL itself, read-only")

    execute = dry_run = query

    def close(self) -> None:
        pass

    def render_bind_parameter_key(self, key: str) -> str:
        return f"${key}"


def _manifest_json(catalog: str) -> str:
    """The semantic manifest with every relation in ``catalog`` (the attached warehouse)."""
    manifest = json.loads(dbt_artifacts.parsed("semantic_manifest.json").read_text())
    for model in manifest["semantic_models"]:
        rel = model["node_relation"]
        rel["database"] = catalog
        rel["relation_name"] = f'"{catalog}"."{rel["schema_name"]}"."{rel["alias"]}"'
    for spine in manifest["project_configuration"].get("time_spines", []):
        spine["node_relation"]["database"] = catalog
        spine["node_relation"]["relation_name"] = (
            f'"{catalog}"."{spine["node_relation"]["schema_name"]}".'
            f'"{spine["node_relation"]["alias"]}"'
        )
    return json.dumps(manifest)


_LOCK = threading.Lock()  # MetricFlow numbers its plan nodes in a global sequence


@cache
def _engine(catalog: str):
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    manifest = parse_manifest_from_dbt_generated_manifest(
        manifest_json_string=_manifest_json(catalog)
    )
    return MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=_CompileOnly()
    )


def metrics() -> list[Metric]:
    """Every metric of the semantic layer, by name."""
    manifest = json.loads(dbt_artifacts.parsed("semantic_manifest.json").read_text())
    return sorted(
        (
            Metric(
                m["name"],
                m.get("label") or m["name"],
                " ".join((m.get("description") or "").split()),
            )
            for m in manifest["metrics"]
        ),
        key=lambda m: m.name,
    )


def compile_sql(
    names: Sequence[str],
    group_by: Sequence[str] = (),
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    where: Sequence[str] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
    catalog: str = "warehouse",
) -> str:
    """MetricFlow's SQL for a metric question; ``start``/``end`` bound metric_time (days,
    inclusive)."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    request = MetricFlowQueryRequest.create(
        metric_names=list(names),
        group_by_names=list(group_by) or None,
        where_constraints=list(where) or None,
        order_by_names=list(order_by) or None,
        limit=limit,
        time_constraint_start=dt.datetime.combine(start, dt.time()) if start else None,
        time_constraint_end=dt.datetime.combine(end, dt.time()) if end else None,
    )
    with _LOCK:
        try:
            return _engine(catalog).explain(request).sql_statement.sql
        # MetricFlow's own words: an unknown metric, a group-by that does not join, …
        except Exception as exc:
            raise MetricQueryError(_one_line(str(exc))) from None


def _one_line(text: str) -> str:
    """MetricFlow's multi-line resolution error as one line: the message, the input, the
    suggestions."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]

    def after(heading: str) -> str:
        return lines[lines.index(heading) + 1] if heading in lines[:-1] else ""

    message = after("Message:") or (lines[0] if lines else "MetricFlow could not compile the query")
    said = message.rstrip(".")
    if given := after("Query Input:"):
        said += f": {given}"
    if "Suggestions:" in lines:
        hint = []
        for line in lines[lines.index("Suggestions:") + 1 :]:
            hint.append(line)
            if line.endswith("]"):
                break
        known = " ".join(hint).strip("[]").replace("'", "").strip(" ,")
        said += f" (did you mean: {known})" if known else ""
    return said


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a published warehouse file (no lock a run would wait on)."""
    return duckdb.connect(str(warehouse), read_only=True)


def ask(
    con: duckdb.DuckDBPyConnection, names: Sequence[str], group_by: Sequence[str] = (), **options
) -> pd.DataFrame:
    """The answer as a frame: one column per group-by item, then one per metric. Values stay
    exact Python values (money a Decimal, a count an int, a ratio a float), not floats."""
    catalog = scalar(con, "select current_database()")
    cursor = con.execute(compile_sql(names, group_by, catalog=catalog, **options))
    columns = [d[0] for d in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns).astype(object)


def value(con: duckdb.DuckDBPyConnection, name: str, **options):
    """One metric over the whole range asked (no group-by) as a Python number; None when empty."""
    frame = ask(con, [name], **options)
    if not len(frame):
        return None
    raw = frame[name].iloc[0]
    return None if raw is None or pd.isna(raw) else raw


def _shown(value) -> str:
    """A cell as an analyst reads it: dates as dates, ratios to 4 decimals, money and counts
    exact."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render(frame: pd.DataFrame, fmt: str = "table") -> str:
    """An answer as a text table, CSV or JSON records (values exact in CSV and JSON)."""
    if fmt == "json":
        return json.dumps(
            [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")],
            indent=1,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(
            [
                [_jsonable(v) if v is not None else "" for v in row]
                for row in frame.itertuples(index=False)
            ]
        )
        return buf.getvalue().rstrip("\n")
    rows = list(frame.itertuples(index=False))
    cells = [[_shown(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(frame.columns)]
    numeric = [
        bool(rows) and all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows)
        for i in range(len(widths))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join(
        [line(list(frame.columns)), line(["-" * w for w in widths]), *map(line, cells)]
    )


def _jsonable(value):
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value != value:
        return None
    return value
