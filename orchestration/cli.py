"""The ``fullsite`` command line (pipeline.md, "Command line").

Every user error ends in one line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="fullsite: the nightly warehouse of the full-site promotion product.")
console = Console(stderr=True, soft_wrap=True)  # soft_wrap: an error stays on one line

DEMO_START = dt.date(2024, 7, 5)  # 30 days from here cross July's end and make July final
DEMO_DAYS = 30


class UserError(Exception):
    """A problem with the caller's input: reported in one line, exit code 2."""


def parse_date(text: str, option: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{option} must be a date YYYY-MM-DD, got {text!r}") from None


def writable_dir(path: str) -> Path:
    root = Path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"cannot write to data root {path!r}: {exc.strerror or exc}") from None
    return root


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def run_generate(data_root: str, start: dt.date, days: int, scale: str, seed: int) -> dict:
    from fullsite.generator.run import generate
    from fullsite.generator.scales import SCALES

    if scale not in SCALES:
        raise UserError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if days < 1:
        raise UserError(f"--days must be at least 1, got {days}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    root = writable_dir(data_root)
    with _progress() as progress:
        task = progress.add_task(f"generating {scale} data", total=days)
        counts = generate(root, start, days, scale, seed, progress=lambda done, _: progress.update(task, completed=done))
    return counts


@app.command("generate")
def generate_cmd(
    data_root: str = typer.Option(..., "--data-root", help="Folder that receives raw/<table>/dt=…"),
    start: str = typer.Option(..., "--start", help="First ingest date, YYYY-MM-DD"),
    days: int = typer.Option(..., "--days", help="Number of days"),
    scale: str = typer.Option("small", "--scale", help="tiny | small | medium | large"),
    seed: int = typer.Option(7, "--seed", help="Random seed: same seed, same bytes"),
) -> None:
    """Write a synthetic raw landing zone that follows the data contract."""
    counts = run_generate(data_root, parse_date(start, "--start"), days, scale, seed)
    total = sum(counts.values())
    typer.echo(f"wrote {total:,} rows under {Path(data_root) / 'raw'}: "
               + ", ".join(f"{name} {n:,}" for name, n in counts.items()))


@app.command("demo")
def demo_cmd(
    data_root: str = typer.Option("data/demo", "--data-root", help="Where the demo data set goes"),
) -> None:
    """Generate the default data set (small, 30 days from 2024-07-05)."""
    counts = run_generate(data_root, DEMO_START, DEMO_DAYS, "small", 7)
    typer.echo(f"demo data set: {sum(counts.values()):,} raw rows under {Path(data_root).resolve() / 'raw'}")


def main() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        app(standalone_mode=False)
    except UserError as exc:
        console.print(f"error: {exc}", style="red", highlight=False, markup=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        console.print("aborted", markup=False)
        sys.exit(130)
    except Exception as exc:  # usage errors of the CLI library and anything unexpected: one line
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.exit(0)  # the help text was printed already
        if hasattr(exc, "format_message"):  # click/typer usage errors (bad option value, …)
            console.print(f"error: {exc.format_message()}", style="red", highlight=False, markup=False)
            sys.exit(getattr(exc, "exit_code", 2) or 2)
        console.print(f"error: {type(exc).__name__}: {exc}", style="red", highlight=False, markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
