"""The dbt docs site of a published warehouse: ``<data-root>/docs/index.html``.

dbt's catalog needs a database to read column types from: the site is generated against a
copy of the published file (never the file itself, which readers may hold open), as one
self-contained page (``dbt docs generate --static``) that opens from disk, offline.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
from pathlib import Path

from fullsite.layout import Layout
from orchestration import state
from orchestration.warehouse import dbt_args


class DocsFailed(Exception):
    """dbt could not write the docs (one line for the operator)."""


def write_docs(layout: Layout) -> Path:
    """Generate the docs site of the published warehouse; the path of its index.html."""
    last = state.last_success(layout.root)
    if last is None or not layout.warehouse.exists():
        raise DocsFailed(f"no published warehouse in {layout.root}: run the pipeline first")
    work = layout.staging / "docs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    copy = work / "warehouse.duckdb"  # same file name: the catalog reads as database "warehouse"
    shutil.copyfile(layout.warehouse, copy)
    env = {**os.environ, "FULLSITE_DATA_ROOT": str(layout.root), "FULLSITE_DBT_DB": str(copy),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    args = dbt_args(layout, {"run_date": last.isoformat()}, command="docs")
    args = [args[0], "generate", "--static", *args[1:]]
    args[args.index("--target-path") + 1] = str(work / "target")
    proc = subprocess.run([str(Path(sys.executable).parent / "dbt"), *args, "--quiet"], env=env,
                          capture_output=True, text=True)
    page = work / "target" / "static_index.html"
    if proc.returncode != 0 or not page.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()
        raise DocsFailed(f"dbt docs generate failed: {tail[-1] if tail else 'exit ' + str(proc.returncode)}")
    out = layout.root / "docs"
    out.mkdir(exist_ok=True)
    tmp = out / ".index.html.tmp"
    shutil.copyfile(page, tmp)
    os.replace(tmp, out / "index.html")
    shutil.rmtree(work, ignore_errors=True)
    return out / "index.html"


def serve(folder: Path, port: int) -> None:
    """Serve the docs on 127.0.0.1 only (never on the network) until interrupted."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {folder} on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        httpd.serve_forever()
