"""Units as configuration: which unit a postcode belongs to, and what each unit can do in a week.

The table is a YAML file (`units.yaml` in this package, or TIPTRIAGE_UNITS_FILE): postcode ranges
per unit, a default unit for reports without a Dutch postcode, weekly capacity in hours and the
hours one report of each outcome takes. The loader refuses overlapping ranges and unknown outcomes.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from tiptriage.config import get_settings
from tiptriage.i18n import refusal
from tiptriage.outcomes import OUTCOMES

_RANGE = re.compile(r"(\d{4})-(\d{4})")
_NL_POSTCODE = re.compile(r"\s*([1-9]\d{3})\s*[A-Za-z]{2}\s*$|\s*([1-9]\d{3})\s*$")


class UnitsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    capacity: float  # hours a week
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Units:
    default_unit: str
    costs: dict[str, float]
    units: tuple[Unit, ...]
    starts: tuple[int, ...]  # sorted range starts, for bisect
    owners: tuple[tuple[int, int, str], ...]  # (start, end, unit), same order

    def unit_for_postcode(self, postcode: str | None) -> str | None:
        """The unit of a Dutch postcode ("1234 AB", "1234ab", "1234"), or None."""
        digits = postcode_digits(postcode)
        if digits is None:
            return None
        i = bisect.bisect_right(self.starts, digits) - 1
        if i >= 0 and self.owners[i][0] <= digits <= self.owners[i][1]:
            return self.owners[i][2]
        return None

    def capacity(self, unit: str) -> float:
        return next((u.capacity for u in self.units if u.name == unit), 0.0)

    def names(self) -> list[str]:
        return [u.name for u in self.units]


def postcode_digits(postcode: str | None) -> int | None:
    if not postcode:
        return None
    match = _NL_POSTCODE.match(postcode)
    return int(match.group(1) or match.group(2)) if match else None


def load_units(path: str | Path | None = None) -> Units:
    path = path or get_settings().units_file
    data = Path(path).read_bytes() if path else resources.files(__package__).joinpath("units.yaml").read_bytes()
    return parse_units(yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def parse_units(doc: object) -> Units:
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        raise refusal(UnitsError, "a units file is a mapping with `units`, `default_unit` and `costs`")
    units = tuple(_unit(u) for u in doc["units"])
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise refusal(UnitsError, "a unit is named twice")
    default = str(doc.get("default_unit", ""))
    if default not in names:
        raise refusal(UnitsError, "the default unit {unit!r} is not one of the units", unit=default)
    costs = doc.get("costs", {})
    if not isinstance(costs, dict) or set(costs) - set(OUTCOMES):
        raise refusal(UnitsError, "costs are given per outcome: {outcomes}", outcomes=", ".join(OUTCOMES))
    owners = tuple(sorted((lo, hi, u.name) for u in units for lo, hi in u.ranges))
    for (_, hi1, a), (lo2, _, b) in itertools.pairwise(owners):
        if lo2 <= hi1:
            raise refusal(UnitsError, "postcodes {lo}-{hi} belong to both {a} and {b}", lo=lo2, hi=hi1, a=a, b=b)
    return Units(default, {o: float(costs.get(o, 1)) for o in OUTCOMES}, units, tuple(o[0] for o in owners), owners)


def _unit(node: object) -> Unit:
    if not isinstance(node, dict) or not node.get("name"):
        raise refusal(UnitsError, "each unit has a name")
    ranges = []
    for text in node.get("postcodes", []):
        match = _RANGE.fullmatch(str(text))
        if not match or int(match.group(1)) > int(match.group(2)):
            raise refusal(UnitsError, "unit {unit}: {text!r} is not a range like 1000-1109", unit=node["name"],
                          text=text)
        ranges.append((int(match.group(1)), int(match.group(2))))
    capacity = node.get("capacity", 0)
    if not isinstance(capacity, int | float) or capacity < 0:
        raise refusal(UnitsError, "unit {unit}: capacity is hours a week (0 or more)", unit=node["name"])
    return Unit(str(node["name"]), float(capacity), tuple(ranges))
