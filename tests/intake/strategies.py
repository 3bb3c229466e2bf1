"""Hypothesis strategies for intake domain objects, for any test that needs generated reports.

Everything is synthetic: names, streets and places come from Faker (nl_NL) seeded by Hypothesis,
the rest is arbitrary text, and hashes are random hex. No real person, no real hash.

The strategies follow the conventions a reader produces, so `read(write(report)) == report` holds:

- text is what `values.text` keeps: trimmed, non-empty, no control characters, no surrogates or
  U+FFFE/U+FFFF, and no longer than the field's column;
- persons are ordered reported, recipient, victim, with refs p1.., r1.., v1..;
- identifiers are ordered by kind as in IDENTIFIER_KINDS; `verified` only on email and phone;
  `platform` only on screen_name and esp_user_id, one platform per person;
- a file's person_ref names a person of the report; it is None only when the report does not have
  exactly one reported person (a reader fills in the single reported person otherwise);
- a file's recipients are all recipient refs when its action is send or share, else empty;
- report and file annotations are sorted, unique, XML names;
- date-times are UTC-aware, between 1990 and the end of 2024;
- sources and report ids have no look-alike letters of another script (read as Latin, flagged).

`reports()` is the full shape (CyberTipline XML and tiptriage JSON carry all of it);
`csv_reports()` is the single-person shape a CSV bulk list carries.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache

from faker import Faker
from hypothesis import strategies as st

from tiptriage import hashtypes
from tiptriage.intake import values as v
from tiptriage.intake.domain import (
    CLASSIFICATIONS, FILE_ACTIONS, IDENTIFIER_KINDS, IP_EVENTS, Address,
    FileHash, Identifier, IpEvent, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.safetext import latin_lookalikes

_FAKE = Faker("nl_NL")

# Characters XML 1.0 can carry and values.text keeps: no surrogates (Cs), no C0 controls besides
# tab, line feed and carriage return, no U+FFFE/U+FFFF.
_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\ufffe\uffff",
)

FLAGS = ("sextortion", "enticement", "self_production", "csam_solicitation", "infant", "animation",
         "generative_ai", "physical_harm", "violence_gore", "bestiality", "live_streaming")


@cache
def faker(method: str, *args, **kwargs) -> st.SearchStrategy[str]:
    """A Faker (nl_NL) value, reproducible from a Hypothesis-drawn seed.

    The factories here are cached: Hypothesis validates every new strategy object, and building
    them afresh inside composite strategies dominated the run time."""
    def make(seed: int) -> str:
        _FAKE.seed_instance(seed)
        return str(getattr(_FAKE, method)(*args, **kwargs))

    return st.integers(0, 2**32 - 1).map(make)


@cache
def plain_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Arbitrary text as values.text keeps it (trimmed, non-empty, storable)."""
    return (st.text(_CHARS, min_size=1, max_size=max_size).map(str.strip)
            .filter(lambda s: 0 < len(s) <= max_size))


@cache
def texts(*faker_methods: str, max_size: int = 40) -> st.SearchStrategy[str]:
    """Realistic values from Faker, mixed with arbitrary text that tests the edges."""
    realistic = st.one_of(*(faker(m) for m in faker_methods)) if faker_methods else st.nothing()
    return st.one_of(realistic.map(lambda s: s.strip()[:max_size].strip()).filter(bool), plain_text(max_size))


@cache
def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


@cache
def flag_names() -> st.SearchStrategy[str]:
    """Annotation names: they are element names in CyberTipline XML."""
    tails = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", max_size=30)
    heads = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
    return st.one_of(st.sampled_from(FLAGS), st.tuples(heads, tails).map("".join))


@cache
def flag_sets(max_size: int = 4) -> st.SearchStrategy[tuple[str, ...]]:
    return st.sets(flag_names(), max_size=max_size).map(lambda s: tuple(sorted(s)))


@cache
def timestamps() -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2024, 12, 31, 23, 59, 59),
                        timezones=st.just(UTC))


@cache
def birth_dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))


@cache
def hex_digest(hash_type: str) -> st.SearchStrategy[str]:
    size = hashtypes.get(hash_type).bits // 8
    return st.binary(min_size=size, max_size=size).map(bytes.hex)


@cache
def file_hashes(types: tuple[str, ...] = hashtypes.NAMES) -> st.SearchStrategy[FileHash]:
    return st.sampled_from(types).flatmap(lambda t: hex_digest(t).map(lambda h: FileHash(t, h)))


@cache
def ip_addresses() -> st.SearchStrategy[str]:
    """Addresses in the canonical text form values.ip_address gives."""
    return st.ip_addresses().map(lambda ip: v.ip_address(str(ip)))


@cache
def ip_events(events: tuple[str, ...] = IP_EVENTS, ports: bool = True) -> st.SearchStrategy[IpEvent]:
    return st.builds(IpEvent, ip=ip_addresses(), event=st.sampled_from(events), at=optional(timestamps()),
                     port=optional(st.integers(0, 65535)) if ports else st.none())


@cache
def addresses() -> st.SearchStrategy[Address]:
    return st.builds(Address, street=optional(texts("street_address")),
                     postcode=optional(texts("postcode", max_size=v.MAX_CODE)),
                     city=optional(texts("city")), country=optional(st.sampled_from(("NL", "BE", "DE"))))


@cache
def _identifier_value(kind: str) -> st.SearchStrategy[str]:
    realistic = {"email": ("email", "free_email"), "phone": ("phone_number",), "screen_name": ("user_name",),
                 "esp_user_id": ("numerify",), "device_id": ("uuid4",)}[kind]
    return texts(*realistic, max_size=80)


@cache
def identifiers(kinds: tuple[str, ...] = IDENTIFIER_KINDS, *, max_per_kind: int = 2,
                verified: bool = True) -> st.SearchStrategy[tuple[Identifier, ...]]:
    """A person's identifiers in reader order, with the person's one platform on platform ids."""
    @st.composite
    def build(draw) -> tuple[Identifier, ...]:
        platform = draw(optional(texts("company", max_size=60)))
        out: list[Identifier] = []
        for kind in kinds:
            for value in draw(st.lists(_identifier_value(kind), max_size=max_per_kind)):
                flag = draw(optional(st.booleans())) if verified and kind in ("email", "phone") else None
                scope = platform if kind in ("screen_name", "esp_user_id") else None
                out.append(Identifier(kind, value, flag, scope))
        return tuple(out)

    return build()


@cache
def persons(ref: str, role: str) -> st.SearchStrategy[ReportedPerson]:
    return st.builds(
        ReportedPerson, ref=st.just(ref), role=st.just(role),
        given_name=optional(texts("first_name")), family_name=optional(texts("last_name")),
        date_of_birth=optional(birth_dates()), age=optional(st.integers(0, 120)),
        identifiers=identifiers(), addresses=st.lists(addresses(), max_size=2).map(tuple),
        ip_events=st.lists(ip_events(), max_size=2).map(tuple),
        estimated_country=optional(st.sampled_from(("NL", "BE", "DE", "US"))),
        prior_reports=st.lists(st.integers(100_000, 9_999_999_999).map(str), max_size=2).map(tuple),
    )


def identity(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A source or report id as a reader keeps it: one with look-alike letters of another script
    is read as the Latin letters (and flagged), so the strategies draw none (test_hostile_corpus)."""
    return strategy.filter(lambda s: latin_lookalikes(s) is None)


_EXTERNAL_IDS = st.one_of(st.integers(100_000, 10**12).map(str), identity(texts(max_size=v.MAX_ID)))


@st.composite
def person_sets(draw, max_per_role: int = 2) -> tuple[ReportedPerson, ...]:
    """Up to `max_per_role` reported persons and recipients, and at most one victim."""
    out: list[ReportedPerson] = []
    for role, prefix, most in (("reported", "p", max_per_role), ("recipient", "r", max_per_role), ("victim", "v", 1)):
        count = draw(st.integers(0, most))
        out.extend(draw(persons(f"{prefix}{n}", role)) for n in range(1, count + 1))
    return tuple(out)


@st.composite
def files_for(draw, people: tuple[ReportedPerson, ...], max_files: int = 3) -> tuple[ReportedFile, ...]:
    refs = draw(st.lists(texts(max_size=v.MAX_ID), unique=True, max_size=max_files))
    reported = [p.ref for p in people if p.role == "reported"]
    holders = [p.ref for p in people] + ([] if len(reported) == 1 else [None])
    recipients = tuple(p.ref for p in people if p.role == "recipient")
    out = []
    for ref in refs:
        action = draw(st.sampled_from(FILE_ACTIONS))
        out.append(ReportedFile(
            ref=ref, file_name=draw(optional(texts("file_name", max_size=120))),
            person_ref=draw(st.sampled_from(holders)), action=action,
            recipients=recipients if action in ("send", "share") else (),
            uploaded_at=draw(optional(timestamps())), viewed_by_esp=draw(optional(st.booleans())),
            publicly_available=draw(optional(st.booleans())),
            classification=draw(optional(st.sampled_from(CLASSIFICATIONS))),
            annotations=draw(flag_sets(3)), hashes=tuple(draw(st.lists(file_hashes(), max_size=4)))))
    return tuple(out)


@st.composite
def reports(draw, *, source: st.SearchStrategy[str] | None = None, format: str = "cybertip-xml",
            max_per_role: int = 2, max_files: int = 3) -> ParsedReport:
    people = draw(person_sets(max_per_role))
    return ParsedReport(
        source=draw(identity(source) if source is not None else st.just("NCMEC")),
        external_id=draw(_EXTERNAL_IDS),
        format=format,
        incident_type=draw(optional(st.sampled_from(("Child Pornography (possession, manufacture, and "
                                                      "distribution)", "Online Enticement of Children")) | texts())),
        incident_at=draw(optional(timestamps())), reported_at=draw(optional(timestamps())),
        reporter=draw(optional(texts("company"))), annotations=draw(flag_sets()),
        persons=people, files=draw(files_for(people, max_files)),
    )


@st.composite
def csv_reports(draw, *, source: st.SearchStrategy[str] | None = None) -> ParsedReport:
    """Reports a CSV bulk list carries: at most one (reported) person, one identifier per kind,
    at most one IP event (an upload, no port), one hash per type, no addresses, no recipients."""
    has_person = draw(st.booleans())
    person = None
    if has_person:
        person = draw(st.builds(
            ReportedPerson, ref=st.just("p1"), role=st.just("reported"),
            given_name=optional(texts("first_name")), family_name=optional(texts("last_name")),
            date_of_birth=optional(birth_dates()), age=optional(st.integers(0, 120)),
            identifiers=identifiers(("email", "phone", "screen_name", "esp_user_id"), max_per_kind=1,
                                    verified=False),
            ip_events=st.lists(ip_events(("Upload",), ports=False), max_size=1).map(tuple)))
        if person == ReportedPerson(ref="p1"):  # a person without any value is no person in a CSV row
            person = replace(person, given_name="Jan")
    files = []
    for ref in draw(st.lists(texts(max_size=v.MAX_ID), unique=True, max_size=3)):
        kinds = draw(st.sets(st.sampled_from(hashtypes.NAMES)))
        files.append(ReportedFile(
            ref=ref, file_name=draw(optional(texts("file_name", max_size=120))),
            person_ref="p1" if person else None, action=draw(st.sampled_from(FILE_ACTIONS)),
            viewed_by_esp=draw(optional(st.booleans())), publicly_available=draw(optional(st.booleans())),
            classification=draw(optional(st.sampled_from(CLASSIFICATIONS))), annotations=draw(flag_sets(3)),
            hashes=tuple(FileHash(t, draw(hex_digest(t))) for t in hashtypes.NAMES if t in kinds)))
    return ParsedReport(
        source=draw(identity(source if source is not None else texts("company", max_size=v.MAX_ID))),
        external_id=draw(identity(texts(max_size=v.MAX_ID))), format="csv",
        incident_type=draw(optional(texts())), incident_at=draw(optional(timestamps())),
        reporter=draw(optional(texts("company"))), annotations=draw(flag_sets()),
        persons=(person,) if person else (), files=tuple(files),
    )
