"""Every test can be run on its own (issue 38), checked without running the suite twice:

* every test file collects on its own (no test depends on another module's import);
* a sample of tests — a different sample at every commit — each passes alone, in a pytest
  process of its own (`pytest path::test_name`), building whatever shared night it needs.

    python -m tests.alone [--sample N]      (make test-alone; CI runs it)
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


def collect(marker: str = "not slow") -> list[str]:
    done = _pytest("--collect-only", "-m", marker)
    if done.returncode != 0:
        raise SystemExit(f"collection failed:\n{done.stdout[-3000:]}")
    return [line for line in done.stdout.splitlines() if "::" in line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=3, help="tests to run alone")
    parser.add_argument("--seed", help="default: the current commit")
    a = parser.parse_args(argv)
    failed = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        done = _pytest("--collect-only", str(path.relative_to(REPO)))
        if done.returncode not in (0, 5):  # 5: nothing selected
            failed.append(
                f"{path.relative_to(REPO)} does not collect alone:\n{done.stdout[-1500:]}"
            )
    seed = (
        a.seed
        or subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    )
    chosen = random.Random(seed or "fullsite").sample(collect(), a.sample)
    for test in chosen:
        print(f"alone: {test}", flush=True)
        done = _pytest(test)
        if done.returncode != 0:
            failed.append(f"{test} fails alone:\n{done.stdout[-3000:]}")
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
