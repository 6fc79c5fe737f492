"""Files people and runs read while we write them: written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def temporary_twin(path: Path) -> Path:
    """Where ``path`` is written before it is swapped in: next to it (the same file system),
    hidden, and named after the writing process (two writers never share one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` whole or not at all: a reader (a browser, the next run) never sees half
    a file, and a killed writer leaves at most a hidden temporary file."""
    path = Path(path)
    tmp = temporary_twin(path)
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, text)


def create_once(path: Path, data: bytes) -> None:
    """Write a new file that must not exist yet (an append to a record): written aside, then
    linked in, which fails if the name is taken. The file is then read-only."""
    path = Path(path)
    tmp = temporary_twin(path)
    try:
        tmp.write_bytes(data)
        os.chmod(tmp, 0o444)
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
