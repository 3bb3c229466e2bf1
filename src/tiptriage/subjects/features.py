"""From a stored reported person to the flat record linkage compares, and its blocking keys.

One record shape serves both paths: Splink reads it as a table row (batch training and relink, on
DuckDB or Spark) and the fast path reads it from `subject_records` as JSON. Every value is
precomputed here with the normalisers of `identifiers.py`, so the comparisons themselves are only
equality, set intersection and an edit distance: the same answer in SQL and in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from tiptriage.intake.domain import Address, Identifier, IpEvent, ReportedPerson
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.subjects.models import has_address
from tiptriage.subjects.identifiers import (
    IpClass,
    NormalisedPerson,
    blocking_keys,
    canonical_given_name,
    known_given_name_forms,
    normalise_person,
    split_particles,
)

# The columns of a record, in a fixed order (Splink's input table and the JSON features).
SCALAR_COLUMNS = (
    "given",
    "given_word",
    "given_initial",
    "family",
    "family_sound",
    "dob_lo",
    "dob_hi",
    "dob_kind",
)
LIST_COLUMNS = (
    "given_forms",
    "emails",
    "phones",
    "accounts",
    "screen_names",
    "devices",
    "addresses",
    "postcodes",
    "cities",
    "ip_hours",
    "ip_days",
    "ip_addrs",
    "keys",
)
COLUMNS = ("unique_id", *SCALAR_COLUMNS, *LIST_COLUMNS)
# Keys of the `subject_keys` table that find candidates. `ip:` keys also count how many records
# share an address (the fan-out guard): an address seen with that many records finds no one.
IP_KEY_PREFIX = "ip:"
HOUR, DAY = 3600, 86400


def domain_person(row: ReportedPersonRow) -> ReportedPerson:
    """The stored rows of a reported person, back in the shape the normalisers take."""
    return ReportedPerson(
        ref=row.ref,
        role=row.role,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        age=row.age,
        identifiers=tuple(Identifier(i.kind, i.value, i.verified, i.platform) for i in row.identifiers),
        addresses=tuple(Address(a.street, a.postcode, a.city, a.country) for a in row.addresses),
        ip_events=tuple(IpEvent(e.ip, e.event, e.at, e.port) for e in row.ip_events),
        estimated_country=row.estimated_country,
    )


def identified(person: ReportedPerson, identity) -> ReportedPerson:
    """The person as an identification (`models.Identification`) establishes them: its name and
    date of birth replace what the report said (a register beats a platform), its address is added
    (the report's addresses stay: they were seen too), identifiers and IP sightings stay."""
    born = identity.date_of_birth or person.date_of_birth
    address = Address(identity.street, identity.postcode, identity.city, identity.country)
    return replace(
        person,
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=born,
        age=None if identity.date_of_birth else person.age,
        addresses=person.addresses + ((address,) if has_address(identity) else ()),
    )


def normalised(row: ReportedPersonRow, report: Report, identity=None) -> NormalisedPerson:
    """The person normalised for linkage; with an identification, as it establishes them."""
    person = domain_person(row)
    if identity is not None:
        person = identified(person, identity)
    # The reporting platform scopes user ids and screen names that name no platform themselves.
    return normalise_person(person, incident_at=report.incident_at, default_platform=report.reporter)


def _sorted_or_none(values: Iterable[str]) -> list[str] | None:
    """Sorted values, or None for none: Splink's null levels test for NULL, not for []."""
    found = sorted(set(values))
    return found or None


def _ip_tokens(person: NormalisedPerson) -> dict[str, list[str] | None]:
    """Address-and-time tokens, each sighting in its own bucket and the two beside it: two records
    share an hour token only when the same public address was seen within three hours of each
    other, a day token within three days; `ip_addrs` holds the addresses themselves (a home
    connection keeps its address for months). Addresses in CGNAT, shared or private ranges, and
    sightings without a time, give none (no evidence)."""
    hours, days, addrs = set(), set(), set()
    for s in person.ip_sightings:
        if s.ip_class is not IpClass.PUBLIC or s.at is None:
            continue
        epoch = int(s.at.timestamp())
        hours.update(f"{s.ip}@{epoch // HOUR + d}" for d in (-1, 0, 1))
        days.update(f"{s.ip}@{epoch // DAY + d}" for d in (-1, 0, 1))
        addrs.add(s.ip)
    return {"ip_hours": _sorted_or_none(hours), "ip_days": _sorted_or_none(days), "ip_addrs": _sorted_or_none(addrs)}


def public_ips(person: NormalisedPerson) -> set[str]:
    return {s.ip for s in person.ip_sightings if s.ip_class is IpClass.PUBLIC and s.at is not None}


def _name_columns(person: NormalisedPerson) -> dict[str, str | list[str] | None]:
    name = person.name
    if name is None:
        return {
            "given": None,
            "given_word": None,
            "given_initial": None,
            "given_forms": None,
            "family": None,
            "family_sound": None,
        }
    # A given-name field that starts with a tussenvoegsel holds a family name ("van Leeuwen" in the
    # wrong field): its first real word is what a swapped record would carry as family name.
    words = split_particles(name.given_names)[1] if name.given_names else ()
    first = words[0] if words else None
    canonical = (
        canonical_given_name(first) if first and first != name.given_names[0] else name.given_canonical
    )
    return {
        "given": canonical,
        "given_word": first,
        # The initial of the baptismal form: Kees and Cornelis both give "c".
        "given_initial": (canonical or "")[:1] or name.given_initials[:1] or None,
        # The baptismal forms the variants table knows for it (Jo: johannes, johanna, josephus).
        "given_forms": _sorted_or_none(known_given_name_forms(first)) if first else None,
        "family": name.family_core or None,
        "family_sound": (name.family_phonetic or name.family_core) or None,
    }


def _birth_columns(person: NormalisedPerson) -> dict[str, str | None]:
    birth = person.birth
    if birth is None:
        return {"dob_lo": None, "dob_hi": None, "dob_kind": None}
    return {
        "dob_lo": birth.earliest.isoformat(),
        "dob_hi": birth.latest.isoformat(),
        "dob_kind": birth.precision.value,
    }


def extra_keys(rec: dict) -> set[str]:
    """Keys beyond `identifiers.blocking_keys`, for the noise that defeats those: a family-name
    typo (given name + exact date), swapped name fields (order-free name + birth year), and a
    record that names no one but gives a home address (households are held apart by the guards)."""
    keys = set()
    if rec["dob_kind"] == "day":
        if rec["given"]:
            keys.add(f"given_dob:{rec['given']}:{rec['dob_lo']}")
        if rec["family"]:
            keys.add(f"family_dob:{rec['family']}:{rec['dob_lo']}")
    if rec["given_word"] and rec["family"] and rec["dob_lo"]:
        words = "|".join(sorted((rec["given_word"], rec["family"])))
        first, last = int(rec["dob_lo"][:4]), int(rec["dob_hi"][:4])
        if last - first < 2:
            keys.update(f"names_yob:{words}:{year}" for year in range(first, last + 1))
    keys.update(f"addr:{address}" for address in rec["addresses"] or ())
    return keys


def record(person_id: int, person: NormalisedPerson) -> dict:
    """The comparable record of one reported person (see COLUMNS)."""
    addresses = person.addresses
    keys = blocking_keys(person)
    rec = {
        "unique_id": person_id,
        **_name_columns(person),
        **_birth_columns(person),
        "emails": _sorted_or_none(e.address for e in person.emails),
        "phones": _sorted_or_none(p.e164 for p in person.phones),
        "accounts": _sorted_or_none(k for k in keys if k.startswith("uid:")),
        "screen_names": _sorted_or_none(k for k in keys if k.startswith("sn:")),
        "devices": _sorted_or_none(person.devices),
        "addresses": _sorted_or_none(a.key for a in addresses if a.street and a.house_number),
        "postcodes": _sorted_or_none(a.postcode for a in addresses if a.postcode),
        "cities": _sorted_or_none(a.city for a in addresses if a.city),
        **_ip_tokens(person),
    }
    rec["keys"] = _sorted_or_none(keys | extra_keys(rec))
    return rec


# A family name on its own: indexed for the registry's name check (registry/earlier.py), never a
# candidate key for linkage (a family name alone finds thousands of namesakes).
FAMILY_KEY_PREFIX = "fam:"


def index_keys(rec: dict, ips: set[str]) -> set[str]:
    """What `subject_keys` holds for a record: its blocking keys, its public IP addresses (fan-out
    counts, candidates) and its family name (the registry's name check)."""
    keys = set(rec["keys"] or ()) | {IP_KEY_PREFIX + ip for ip in ips}
    if rec["family"]:
        keys.add(FAMILY_KEY_PREFIX + rec["family"])
    return keys


def drop_ips(rec: dict, ips: set[str]) -> dict:
    """The record without the tokens of the given addresses (the fan-out guard found them shared)."""
    if not ips:
        return rec
    out = dict(rec)
    for column in ("ip_hours", "ip_days", "ip_addrs"):
        kept = [t for t in rec[column] or () if t.rsplit("@", 1)[0] not in ips]
        out[column] = kept or None
    return out


__all__ = [
    "COLUMNS",
    "LIST_COLUMNS",
    "SCALAR_COLUMNS",
    "IP_KEY_PREFIX",
    "FAMILY_KEY_PREFIX",
    "index_keys",
    "domain_person",
    "identified",
    "normalised",
    "record",
    "drop_ips",
    "public_ips",
]
