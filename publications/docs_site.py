"""The dbt docs site of a published warehouse: ``<data-root>/docs/index.html``.

dbt's catalog needs a database to read column types from: the site is generated against a
copy of the published file (never the file itself, which readers may hold open), as one
self-contained page (``dbt docs generate --static``) that opens from disk, offline.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fullsite.files import write_atomic
from fullsite.layout import Layout
from fullsite.rules import DBT_PROJECT_DIR
from publications.published import NotPublished, build, connect


class DocsFailed(Exception):
    """dbt could not write the docs (one line for the operator)."""


def write_docs(layout: Layout) -> Path:
    """Generate the docs site of the published warehouse; the path of its index.html."""
    try:
        con = connect(layout)
        try:
            through = build(con).data_through
        finally:
            con.close()
    except NotPublished as exc:
        raise DocsFailed(str(exc)) from None
    with tempfile.TemporaryDirectory(dir=layout.root, prefix=".docs-") as folder:
        work = Path(folder)
        # same file name: the catalog reads as database "warehouse"
        copy = work / "warehouse.duckdb"
        shutil.copyfile(layout.warehouse, copy)
        page = _dbt_docs(work, copy, through)
        layout.docs_site.mkdir(exist_ok=True)
        write_atomic(layout.docs_site / "index.html", page.read_bytes())
    return layout.docs_site / "index.html"


def _dbt_docs(work: Path, copy: Path, through: dt.date) -> Path:
    """``dbt docs generate --static`` in ``work`` over ``copy``: its one-page site."""
    # The data root as ".." of the work folder: its name never enters dbt's SQL text.
    env = {
        **os.environ,
        "FULLSITE_DATA_ROOT": "..",
        "FULLSITE_DBT_DB": str(copy),
        "FULLSITE_RUN_DATE": through.isoformat(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target = work / "target"
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *("docs", "generate", "--static", "--quiet"),
        *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
        *("--target-path", str(target), "--log-path", str(work / "logs")),
    ]
    proc = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True)
    page = target / "static_index.html"
    if proc.returncode != 0 or not page.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()
        raise DocsFailed(
            f"dbt docs generate failed: {tail[-1] if tail else 'exit ' + str(proc.returncode)}"
        )
    return page


def serve(folder: Path, port: int) -> None:
    """Serve the docs on 127.0.0.1 only (never on the network) until interrupted."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {folder} on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        httpd.serve_forever()
