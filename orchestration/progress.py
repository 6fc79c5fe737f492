"""Where a run's stage messages go: the CLI's progress bar when it launched the run
(in this process), nowhere otherwise (Dagster logs the run's own events)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

_listeners: list[Callable[[str], None]] = []


def report(message: str) -> None:
    for listener in _listeners:
        listener(message)


@contextmanager
def listening(listener: Callable[[str], None]):
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
