"""HTML pages from Jinja2 templates with autoescaping: every value a page shows is escaped
where it lands, so a name from upstream (``<img onerror=…>``) is text, never markup. Each
package keeps its templates in its own ``templates/`` folder; the filters that format
figures for people are shared here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined


def _missing(value) -> bool:
    """None, NaN, pandas' NaT/NA: nothing to show."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False


def money(value) -> str:
    """CNY with thousands separators, exact for decimals: 1,234.50."""
    if _missing(value):
        return "—"
    return f"{value if isinstance(value, Decimal) else Decimal(str(value)):,.2f}"


def ratio(value, spec: str = ".2f") -> str:
    return "—" if _missing(value) else format(float(value), spec)


def share(value, signed: bool = False, digits: int = 0) -> str:
    """A share as a percentage: 0.42 → 42 % (signed: +42 %)."""
    if _missing(value):
        return "—"
    return format(float(value), f"{'+' if signed else ''}.{digits}%").replace("%", " %")


def count(value) -> str:
    return "—" if _missing(value) else f"{int(value):,}"


def day(value) -> str:
    if _missing(value):
        return ""
    return (
        (value.date() if isinstance(value, dt.datetime) else value).isoformat()
        if hasattr(value, "isoformat")
        else str(value)
    )


@cache
def environment(package: str) -> Environment:
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, ratio=ratio, share=share, count=count, day=day)
    return env


def render(package: str, template: str, **context) -> str:
    """A page of ``package``'s ``templates/``; values are escaped, charts go through ``tojson``."""
    return environment(package).get_template(template).render(**context)
