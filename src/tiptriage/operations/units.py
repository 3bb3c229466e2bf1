"""Units as configuration: which unit a place belongs to, and what each unit can do in a week.

The units are a YAML file (`units.yaml` in this package, or TIPTRIAGE_UNITS_FILE): the units, a
default unit for work nothing places, weekly capacity in hours and the hours one report of each
outcome takes. Geography is data files beside it, each replaceable by an official one with the same
columns and nothing else: postcodes per unit (`postcodes.csv`, TIPTRIAGE_POSTCODES_FILE: a PC4
postcode or a range), places a platform's estimated location names (`places.csv`,
TIPTRIAGE_PLACES_FILE) and, where a unit has one, IP networks per unit (TIPTRIAGE_IP_UNITS_FILE,
`network,unit`, e.g. from a GeoIP city table). The loader refuses overlapping ranges, unknown units
and unknown outcomes, naming the file and line.
"""

from __future__ import annotations

import bisect
import csv
import io
import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from tiptriage.config import get_settings
from tiptriage.i18n import refusal
from tiptriage.outcomes import OUTCOMES

_RANGE = re.compile(r"(\d{4})-(\d{4})")
_SINGLE = re.compile(r"\d{4}")
_NL_POSTCODE = re.compile(r"\s*([1-9]\d{3})\s*[A-Za-z]{2}\s*$|\s*([1-9]\d{3})\s*$")


class UnitsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    capacity: float  # hours a week
    ranges: tuple[tuple[int, int], ...]


@dataclass
class NetworkTable:
    """IP networks → a label (a country, a unit): sorted, non-overlapping ranges per address
    family, so a lookup is one bisection."""

    starts: dict[int, list[int]] = field(default_factory=lambda: {4: [], 6: []})
    ranges: dict[int, list[tuple[int, int, str]]] = field(default_factory=lambda: {4: [], 6: []})

    def label(self, ip: str) -> str | None:
        try:
            address = ipaddress.ip_address(ip.strip().removeprefix("[").removesuffix("]"))
        except ValueError:
            return None
        value, starts = int(address), self.starts[address.version]
        i = bisect.bisect_right(starts, value) - 1
        if i >= 0:
            lo, hi, label = self.ranges[address.version][i]
            if lo <= value <= hi:
                return label
        return None

    def __bool__(self) -> bool:
        return bool(self.starts[4] or self.starts[6])


def load_network_table(path: str | Path | None, *, upper: bool = False) -> NetworkTable:
    """A CSV `network,label` (header and `#` lines skipped); no path: an empty table."""
    table = NetworkTable()
    if not path:
        return table
    rows: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
    for line, (first, label) in _rows(Path(path).read_text(encoding="utf-8"), str(path), "network"):
        try:
            net = ipaddress.ip_network(first, strict=False)
        except ValueError:
            raise refusal(UnitsError, "{file}, line {line}: {value!r} is not an IP network", file=str(path),
                          line=line, value=first) from None
        rows[net.version].append((int(net.network_address), int(net.broadcast_address),
                                  label.upper() if upper else label))
    for version, items in rows.items():
        items.sort()
        table.ranges[version] = items
        table.starts[version] = [lo for lo, _, _ in items]
    return table


def _rows(text: str, name: str, header: str):
    """(line number, (first, second)) of a two-column CSV, without its header and `#` comments."""
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or row[0].lstrip().startswith("#") or row[0].strip().casefold() == header:
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise refusal(UnitsError, "{file}, line {line}: two columns expected, {header} and unit", file=name,
                          line=line, header=header)
        yield line, (row[0].strip(), row[1].strip())


@dataclass(frozen=True, slots=True)
class Units:
    default_unit: str
    costs: dict[str, float]
    units: tuple[Unit, ...]
    starts: tuple[int, ...]  # sorted range starts, for bisect
    owners: tuple[tuple[int, int, str], ...]  # (start, end, unit), same order
    places: dict[str, str] = field(default_factory=dict)  # casefolded place name → unit
    networks: NetworkTable = field(default_factory=NetworkTable)  # IP network → unit, where a unit has one

    def unit_for_place(self, place: str | None) -> str | None:
        """The unit of a place a platform's estimated location names, when the places table has it."""
        return self.places.get(" ".join(place.split()).casefold()) if place else None

    def unit_for_ip(self, ip: str) -> str | None:
        return self.networks.label(ip) if self.networks else None

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
    """The units with their geography, from the configured files (the packaged ones by default)."""
    settings = get_settings()
    path = path or settings.units_file
    data = Path(path).read_bytes() if path else resources.files(__package__).joinpath("units.yaml").read_bytes()
    doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    postcodes = _packaged_or(settings.postcodes_file, "postcodes.csv")
    places = _packaged_or(settings.places_file, "places.csv")
    units = parse_units(doc, postcodes=_postcode_rows(*postcodes), places=dict(_place_rows(*places)))
    networks = load_network_table(settings.ip_units_file)
    unknown = {label for ranges in networks.ranges.values() for *_, label in ranges} - set(units.names())
    if unknown:
        raise refusal(UnitsError, "{file}: unknown units {units}", file=str(settings.ip_units_file),
                      units=", ".join(sorted(unknown)))
    return Units(units.default_unit, units.costs, units.units, units.starts, units.owners, units.places, networks)


def _packaged_or(path: str | None, name: str) -> tuple[str, str]:
    """(text, file name) of a configured data file, or of the packaged one."""
    if path:
        return Path(path).read_text(encoding="utf-8"), path
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8"), name


def _postcode_rows(text: str, name: str) -> list[tuple[str, str, str]]:
    return [(first, unit, (name, line)) for line, (first, unit) in _rows(text, name, "postcode")]


def _place_rows(text: str, name: str):
    for _line, (place, unit) in _rows(text, name, "place"):
        yield " ".join(place.split()).casefold(), unit


def parse_units(doc: object, *, postcodes: list[tuple[str, str, tuple[str, int]]] = (),
                places: dict[str, str] | None = None) -> Units:
    """The units of a units document; `postcodes` are (postcode or range, unit, (file, line)) rows of a
    postcodes file, added to the ranges the document itself may give (`postcodes:` per unit)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        raise refusal(UnitsError, "a units file is a mapping with `units`, `default_unit` and `costs`")
    units = tuple(_unit(u) for u in doc["units"])
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise refusal(UnitsError, "a unit is named twice")
    units = _with_postcodes(units, postcodes)
    for place, unit in (places or {}).items():
        if unit not in names:
            raise refusal(UnitsError, "places: {place!r} belongs to {unit!r}, which is not one of the units",
                          place=place, unit=unit)
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
    return Units(default, {o: float(costs.get(o, 1)) for o in OUTCOMES}, units, tuple(o[0] for o in owners), owners,
                 dict(places or {}))


def _with_postcodes(units: tuple[Unit, ...], rows: list[tuple[str, str, tuple[str, int]]]) -> tuple[Unit, ...]:
    extra: dict[str, list[tuple[int, int]]] = {u.name: [] for u in units}
    for text, unit, (file, line) in rows:
        if unit not in extra:
            raise refusal(UnitsError, "{file}, line {line}: {unit!r} is not one of the units", file=file, line=line,
                          unit=unit)
        extra[unit].append(_postcode_range(text, file, line))
    return tuple(Unit(u.name, u.capacity, u.ranges + tuple(extra[u.name])) for u in units)


def _postcode_range(text: str, file: str, line: int) -> tuple[int, int]:
    if _SINGLE.fullmatch(text):
        return int(text), int(text)
    match = _RANGE.fullmatch(text)
    if not match or int(match.group(1)) > int(match.group(2)):
        raise refusal(UnitsError, "{file}, line {line}: {text!r} is not a postcode like 1011 or a range like "
                                  "1000-1109", file=file, line=line, text=text)
    return int(match.group(1)), int(match.group(2))


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
