"""Where evidence places a reported person: address countries, phone numbers and IP addresses.

IP addresses are placed by a table the deployment provides (CSV `network,country`, e.g. exported
from a GeoIP database; TIPTRIAGE_IP_COUNTRIES_FILE). Without one, IP addresses place no one.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from tiptriage.operations.units import postcode_digits
from tiptriage.subjects.identifiers import PhoneNumber, parse_phone

COUNTRY_NAMES = {"NETHERLANDS": "NL", "THE NETHERLANDS": "NL", "NEDERLAND": "NL", "HOLLAND": "NL",
                 "BELGIUM": "BE", "BELGIË": "BE", "GERMANY": "DE", "DEUTSCHLAND": "DE", "UNITED KINGDOM": "GB"}


@dataclass
class IpCountries:
    """Sorted, non-overlapping ranges per address family; a lookup is one bisection."""

    starts: dict[int, list[int]] = field(default_factory=lambda: {4: [], 6: []})
    ranges: dict[int, list[tuple[int, int, str]]] = field(default_factory=lambda: {4: [], 6: []})

    def country(self, ip: str) -> str | None:
        try:
            address = ipaddress.ip_address(ip.strip().removeprefix("[").removesuffix("]"))
        except ValueError:
            return None
        value, starts = int(address), self.starts[address.version]
        i = bisect.bisect_right(starts, value) - 1
        if i >= 0:
            lo, hi, country = self.ranges[address.version][i]
            if lo <= value <= hi:
                return country
        return None


def load_ip_countries(path: str | Path | None) -> IpCountries:
    table = IpCountries()
    if not path:
        return table
    rows: dict[int, list[tuple[int, int, str]]] = {4: [], 6: []}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if not row or row[0].startswith("#") or row[0] == "network":
                continue
            net = ipaddress.ip_network(row[0].strip(), strict=False)
            rows[net.version].append((int(net.network_address), int(net.broadcast_address), row[1].strip().upper()))
    for version, items in rows.items():
        items.sort()
        table.ranges[version] = items
        table.starts[version] = [lo for lo, _, _ in items]
    return table


def address_country(country: str | None, postcode: str | None) -> str | None:
    if country:
        text = country.strip().upper()
        return COUNTRY_NAMES.get(text, text if len(text) == 2 else None)
    return "NL" if postcode_digits(postcode) is not None else None


class PhoneRegions:
    """Phone numbers → country, memoised per triage run (phonenumbers parsing is the slow part)."""

    def __init__(self, default_region: str):
        self.default_region = default_region
        self.seen: dict[str, str | None] = {}

    def region(self, value: str) -> str | None:
        if value not in self.seen:
            parsed = parse_phone(value, region=self.default_region)
            self.seen[value] = parsed.region if isinstance(parsed, PhoneNumber) else None
        return self.seen[value]
