"""Business-day arithmetic on int64 microseconds (vectorised; no per-row Python)."""

from __future__ import annotations

import datetime as dt

import numpy as np

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND
LOCAL_OFFSET_US = 8 * 3_600 * US_PER_SECOND  # Asia/Shanghai, UTC+8, no DST
EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def local_midnight_us(d: dt.date) -> int:
    """UTC microseconds of 00:00 Asia/Shanghai on business date ``d``."""
    return day_number(d) * US_PER_DAY - LOCAL_OFFSET_US


def business_day_number(t_us: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the Asia/Shanghai calendar date of each instant."""
    return np.floor_divide(t_us + LOCAL_OFFSET_US, US_PER_DAY)


def date_of(day_no: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day_no))
