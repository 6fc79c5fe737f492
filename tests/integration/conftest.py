from __future__ import annotations

import datetime as dt
import shutil

import pytest

from orchestration.pipeline import Pipeline
from tests.conftest import TINY_START

FIRST = TINY_START                       # 2024-07-28
PUBLISHED = dt.date(2024, 8, 1)          # the shared data root is published up to here


def copy_root(src, dst):
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def published_root(tmp_path_factory, tiny_raw, spark):
    """tiny data backfilled 2024-07-28 … 2024-08-01 (read-only for tests: copy it to change it)."""
    root = copy_root(tiny_raw, tmp_path_factory.mktemp("published") / "root")
    Pipeline(root, spark=spark).run_range(FIRST, PUBLISHED)
    return root


@pytest.fixture
def scratch_root(tmp_path, published_root):
    """A private copy of the published data root."""
    return copy_root(published_root, tmp_path / "root")
