"""Fast construction of contract-typed Arrow columns from numpy arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fullsite.contract import MONEY, ROI, TS


def ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix`` + decimal number, built in Arrow's C++ kernels (no per-row Python)."""
    digits = pa.array(numbers, type=pa.int64()).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def decimal_from_cents(cents: np.ndarray, type_: pa.DataType = MONEY, null_mask=None) -> pa.Array:
    """DECIMAL(p,2) straight from int64 cents: the 128-bit unscaled integers are the cents."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension of the high word
    arr = pa.Array.from_buffers(type_, len(cents), [None, pa.py_buffer(words.tobytes())])
    if null_mask is not None and null_mask.any():
        arr = pc.if_else(pa.array(null_mask), pa.scalar(None, type=type_), arr)
    return arr


def roi_from_cents(cents: np.ndarray) -> pa.Array:
    return decimal_from_cents(cents, ROI)


def timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64), type=pa.int64()).view(TS)


def cents_of(decimal_array: pa.Array) -> np.ndarray:
    """Inverse of ``decimal_from_cents`` for non-null arrays (low word of each value)."""
    buf = decimal_array.buffers()[1]
    words = np.frombuffer(buf, dtype=np.int64)[
        2 * decimal_array.offset : 2 * (decimal_array.offset + len(decimal_array))
    ]
    return words[0::2].copy()
