"""Files people and runs read while we write them."""
from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: a reader (a browser, the next run) never sees half
    a file. The temporary file sits next to it, hidden, on the same file system."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
