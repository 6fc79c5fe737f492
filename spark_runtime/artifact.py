"""A file ``make setup`` builds once per environment (the class-data archive, the file
system jar): keyed by name, earlier keys removed, built in a temporary folder and moved in
whole, so a failed build leaves nothing half-written. Each is only a speed-up: a build
that fails says why and setup goes on."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def build_once(path: Path, build: Callable[[Path], tuple[Path | None, str]], what: str) -> None:
    """Build ``path`` unless it exists. ``build(tmp)`` returns the built file inside ``tmp``
    (None when it failed) and the last line of the builder's errors. Files named like
    ``path`` with another key (``<prefix>-<key><suffix>``) are removed first."""
    if path.exists():
        return
    prefix = path.stem.rsplit("-", 1)[0]
    for stale in path.parent.glob(f"{prefix}-*{path.suffix}"):  # of earlier installs
        stale.unlink()
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        built, error = build(Path(tmp))
        if built is None or not built.exists():
            print(f"{what} was not created: {error}")
            return
        shutil.move(str(built), path)


def last_line(stderr: str) -> str:
    return (stderr.strip().splitlines() or [""])[-1]
