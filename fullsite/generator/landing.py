"""The landing zone's imperfections: late arrival, redelivery, conflicts and bad rows.

Every generated row lands in partition ``dt = business_date + lag``. Rows whose partition
is in the future wait in a buffer; copies (identical or conflicting redeliveries) and
broken copies (one per quarantine reason) are added on top of the real events, with ids
of their own for broken copies, so the clean events stay exactly what was generated.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fullsite.contract import ID_COLUMN, REASONS_BY_TABLE, SCHEMAS
from fullsite.generator.arrow import cents_of, decimal_from_cents, timestamps
from fullsite.generator.scales import DirtRates
from fullsite.generator.timeutil import US_PER_DAY, business_day_number


def _ts_us(table: pa.Table) -> np.ndarray:
    return table.column("event_time").combine_chunks().view(pa.int64()).to_numpy()


def _set(table: pa.Table, name: str, values) -> pa.Table:
    i = table.schema.get_field_index(name)
    field = table.schema.field(i)
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=field.type)
    return table.set_column(i, field, values)


def _null(table: pa.Table, name: str) -> pa.Table:
    typ = table.schema.field(name).type
    return _set(table, name, pa.nulls(table.num_rows, type=typ))


def _break(table: str, reason: str, rows: pa.Table) -> pa.Table | None:
    """Copies of ``rows`` that fail exactly ``reason`` (None when no row fits)."""
    if reason not in _BREAKERS:
        raise ValueError(reason)
    return _BREAKERS[reason](table, rows)


def _bad_enum(table: str, rows: pa.Table) -> pa.Table:
    col, value = ("save_type", "wishlist") if table == "saves" else ("scene", "homepage")
    return _set(rows, col, [value] * rows.num_rows)


def _negative_amount(table: str, rows: pa.Table) -> pa.Table:
    if table == "clicks":
        return _set(rows, "cost", decimal_from_cents(np.full(rows.num_rows, -50)))
    amount = cents_of(rows.column("amount").combine_chunks())
    return _set(rows, "amount", decimal_from_cents(-amount))


def _natural_rows(rows: pa.Table) -> pa.Table | None:
    natural = rows.filter(pc.invert(rows.column("is_paid")))
    return natural if natural.num_rows else None


def _paid_flag_mismatch(table: str, rows: pa.Table) -> pa.Table | None:
    natural = _natural_rows(rows)
    return None if natural is None else _set(natural, "is_paid", [True] * natural.num_rows)


def _natural_click_cost(table: str, rows: pa.Table) -> pa.Table | None:
    natural = _natural_rows(rows)
    if natural is None:
        return None
    return _set(natural, "cost", decimal_from_cents(np.full(natural.num_rows, 30)))


def _unknown_campaign(table: str, rows: pa.Table) -> pa.Table:
    rows = _set(rows, "campaign_id", ["C-UNKNOWN"] * rows.num_rows)
    return _set(rows, "is_paid", [True] * rows.num_rows)


def _moved(days: int):
    def move(table: str, rows: pa.Table) -> pa.Table:
        return _set(rows, "event_time", timestamps(_ts_us(rows) + days * US_PER_DAY))

    return move


_BREAKERS = {
    "missing_required": lambda table, rows: _null(rows, "user_id"),
    "bad_enum": _bad_enum,
    "negative_amount": _negative_amount,
    "bad_quantity": lambda table, rows: _set(
        rows, "quantity", np.zeros(rows.num_rows, dtype=np.int32)
    ),
    "paid_flag_mismatch": _paid_flag_mismatch,
    "natural_click_cost": _natural_click_cost,
    "unknown_product": lambda table, rows: _set(rows, "product_id", ["P-UNKNOWN"] * rows.num_rows),
    "unknown_campaign": _unknown_campaign,
    "future_event": _moved(2),
    "too_late": _moved(-5),
}


def _conflict(table: str, rows: pa.Table) -> pa.Table:
    """A redelivery of the same id with one field changed (still a valid row)."""
    if table == "purchases":
        return _set(
            rows,
            "amount",
            decimal_from_cents(cents_of(rows.column("amount").combine_chunks()) + 100),
        )
    if table == "clicks":
        return _set(rows, "is_invalid", pc.invert(rows.column("is_invalid")))
    if table == "saves":
        flipped = pc.if_else(pc.equal(rows.column("save_type"), "cart"), "favorite", "cart")
        return _set(rows, "save_type", flipped)
    rotated = pc.if_else(pc.equal(rows.column("scene"), "search"), "recommend", "search")
    return _set(rows, "scene", rotated)


class LandingZone:
    def __init__(self, rates: DirtRates):
        self.rates = rates
        self.pending: dict[str, dict[int, list[pa.Table]]] = defaultdict(lambda: defaultdict(list))
        self.bad_serial = 0

    def add(self, table: str, rows: pa.Table, rng) -> None:
        """Route generated rows to the partition each one lands in."""
        if rows.num_rows == 0:
            return
        bd = business_day_number(_ts_us(rows))
        r = self.rates
        u = rng.random(rows.num_rows)
        lag = np.select(
            [
                u < r.late_beyond,
                u < r.late_beyond + r.late_2_days,
                u < r.late_beyond + r.late_2_days + r.late_1_day,
            ],
            [rng.integers(3, 6, rows.num_rows), 2, 1],
            0,
        )
        dt = bd + lag
        for day in np.unique(dt):
            part = rows.filter(pa.array(dt == day))
            self.pending[table][int(day)].append(part)

    def _pick(self, rng, rows: pa.Table, rate: float, minimum: int) -> pa.Table:
        n = max(minimum, int(rng.binomial(rows.num_rows, rate))) if rows.num_rows else 0
        n = min(n, rows.num_rows)
        return (
            rows.take(pa.array(np.sort(rng.choice(rows.num_rows, n, replace=False))))
            if n
            else rows.slice(0, 0)
        )

    def land(self, table: str, day_no: int, rng) -> tuple[pa.Table, pa.Table]:
        """The partition ``dt=day_no``: (on-time rows, late arrivals + redeliveries + broken
        copies)."""
        arrived = self.pending[table].pop(day_no, [])
        rows = pa.concat_tables(arrived or [SCHEMAS[table].empty_table()])
        bd = business_day_number(_ts_us(rows)) if rows.num_rows else np.zeros(0, dtype=np.int64)
        on_time = rows.filter(pa.array(bd == day_no)) if rows.num_rows else rows
        late = rows.filter(pa.array(bd != day_no)) if rows.num_rows else rows
        extra = [late]
        if on_time.num_rows:
            r, g = self.rates, self.rates.guaranteed_bad_per_reason
            extra.append(self._pick(rng, on_time, r.redelivery_same_partition, g))
            self._redeliver_later(rng, table, day_no, on_time)
            extra.append(self._conflicts(rng, table, day_no, on_time))
            extra += self._broken_copies(rng, table, on_time)
        return on_time, pa.concat_tables(extra).combine_chunks()

    def _redeliver_later(self, rng, table: str, day_no: int, on_time: pa.Table) -> None:
        """Identical copies landing again one to three partitions later."""
        copy = self._pick(rng, on_time, self.rates.redelivery_later_partition, 0)
        if copy.num_rows:
            later = day_no + rng.integers(1, 4, copy.num_rows)
            for day in np.unique(later):
                self.pending[table][int(day)].append(copy.filter(pa.array(later == day)))

    def _conflicts(self, rng, table: str, day_no: int, on_time: pa.Table) -> pa.Table:
        """Conflicting copies: half in this partition (the original and the copy are both
        quarantined), half in the next (the copy meets an id accepted the day before)."""
        r, g = self.rates, self.rates.guaranteed_bad_per_reason
        conflicts = _conflict(table, self._pick(rng, on_time, r.conflicting_redelivery, g))
        if not conflicts.num_rows:
            return conflicts
        same = rng.random(conflicts.num_rows) < 0.5
        self.pending[table][day_no + 1].append(conflicts.filter(pa.array(~same)))
        return conflicts.filter(pa.array(same))

    def _broken_copies(self, rng, table: str, on_time: pa.Table) -> list[pa.Table]:
        """Copies broken for each quarantine reason of the table, under ids of their own."""
        out = []
        idc = ID_COLUMN[table]
        for i, reason in enumerate(REASONS_BY_TABLE[table]):
            if reason == "conflicting_duplicate":
                continue
            picked = self._pick(
                rng, on_time, self.rates.bad_row, self.rates.guaranteed_bad_per_reason
            )
            broken = _break(table, reason, picked)
            if broken is None or broken.num_rows == 0:
                continue
            serial = np.arange(self.bad_serial, self.bad_serial + broken.num_rows)
            self.bad_serial += broken.num_rows
            new_ids = pc.binary_join_element_wise(
                broken.column(idc), pa.array(serial).cast(pa.string()), f"-x{i}-"
            )
            out.append(_set(broken, idc, new_ids))
        return out
