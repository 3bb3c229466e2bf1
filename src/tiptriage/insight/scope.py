"""What statistics and the evaluation share: who may read them, for which units, on record, and
the suppression of small counts.

Figures made for leadership leave the unit (a management report, a press release, the ministry),
and a count of 1 in a small municipality identifies a person: every count from 1 to the minimum
cell size minus one is shown as "<N" (TIPTRIAGE_STATS_MIN_CELL, default 5), and a share or a
median resting on fewer cases than that is not shown. Zero is shown: it identifies no one.
"""

from __future__ import annotations

from datetime import date

from tiptriage.accounts.actor import require, units_in_view
from tiptriage.audit import service as audit
from tiptriage.config import get_settings


def min_cell() -> int:
    return get_settings().stats_min_cell


def cell(n: int, minimum: int) -> int | str:
    """A count as it may leave the unit: itself, or "<minimum" when it is 1 .. minimum-1."""
    return n if n == 0 or n >= minimum else f"<{minimum}"


def suppressed(value) -> bool:
    return isinstance(value, str) and value.startswith("<")


def shown(n: int, minimum: int, value):
    """A derived figure (share, median, rate) of `n` cases, or None when n is below the minimum."""
    return value if n >= minimum else None


def units_for(actor, unit: str | None) -> frozenset[str] | None:
    """The units whose figures `actor` may read (None: all), refused without the role."""
    require(actor, "view_stats")
    return units_in_view(actor, unit)


def on_record(session, *, actor, action: str, units: frozenset[str] | None, since: date | None,
              until: date | None, purpose: str | None) -> None:
    """Who looked at which figures: aggregates hold no personal data, but reading them is on record."""
    audit.record(session, actor=actor, action=action, entity="statistics", reason=purpose,
                 details={"units": sorted(units) if units else "all", "since": since, "until": until})


def p_value(p: float) -> str:
    """A p-value with its sign, as it is read: "< 0.001" rather than a rounded "= 0"."""
    from tiptriage.i18n import number

    return f"< {number(0.001)}" if p < 0.001 else f"= {number(round(p, 3))}"
