"""Where evidence places a reported person: address countries, phone numbers and IP addresses.

IP addresses are placed by a table the deployment provides (CSV `network,country`, e.g. exported
from a GeoIP database; TIPTRIAGE_IP_COUNTRIES_FILE). Without one, IP addresses place no one.
"""

from __future__ import annotations

from pathlib import Path

from tiptriage.operations.units import NetworkTable, load_network_table, postcode_digits
from tiptriage.subjects.identifiers import PhoneNumber, parse_phone

COUNTRY_NAMES = {"NETHERLANDS": "NL", "THE NETHERLANDS": "NL", "NEDERLAND": "NL", "HOLLAND": "NL",
                 "BELGIUM": "BE", "BELGIË": "BE", "GERMANY": "DE", "DEUTSCHLAND": "DE", "UNITED KINGDOM": "GB"}


class IpCountries(NetworkTable):
    """IP networks → country (a `NetworkTable` of country codes)."""

    def country(self, ip: str) -> str | None:
        return self.label(ip)


def load_ip_countries(path: str | Path | None) -> IpCountries:
    table = load_network_table(path, upper=True)
    return IpCountries(table.starts, table.ranges)


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
