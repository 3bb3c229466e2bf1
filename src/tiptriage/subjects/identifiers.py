"""Normalisation of what identifies a reported person, before any linkage.

Pure functions, no database. Every normaliser takes text as reported and returns a canonical value,
or a `Rejected` with the reason: callers never see an exception for bad input. Canonical values are
fixed points (normalising them again changes nothing), so stored keys can be recomputed.

The rule tables (email providers, tussenvoegsels, given-name short forms, street abbreviations,
shared IP ranges, placeholder dates of birth) are data in `tables/*.json`; functions that use one
accept a replacement, so tests and deployments can configure them.

Agreement helpers (`compare_birth`, `ip_agreement`) return agreement *levels*; how much a level
counts is the linkage model's business, not this module's.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import email_validator
import jellyfish
import phonenumbers

from tiptriage.intake.domain import Address, Identifier, IpEvent, ReportedPerson

DEFAULT_REGION = "NL"
# Longer values are not identifiers but pasted junk; refusing them early keeps parsers cheap.
MAX_VALUE_LENGTH = 320

# ---------------------------------------------------------------------------------------------
# Tables and shared helpers


@cache
def load_table(name: str) -> dict[str, Any]:
    """One of the packaged rule tables (`tables/<name>.json`), parsed once."""
    return json.loads(resources.files(__package__).joinpath("tables", f"{name}.json").read_text("utf-8"))


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that could not be normalised, and why: kept for the analyst, never used as a key."""

    kind: str
    value: str
    reason: str


_SPECIAL_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d",
                                  "þ": "th", "ı": "i", "ħ": "h"})


def fold(text: str) -> str:
    """Lower case without diacritics: é→e, ö→o, ß→ss, ĳ→ij, ø→o. For names, streets, cities."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_LETTERS)
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", bare)


def _clean(value: object) -> str | None:
    """Reported text, NFKC and trimmed; None when empty, not text, or absurdly long."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        return None
    value = unicodedata.normalize("NFKC", value).strip()
    return value or None


def _refuse(kind: str, value: object, reason: str) -> Rejected:
    shown = value if isinstance(value, str) else repr(value)
    return Rejected(kind, shown[:MAX_VALUE_LENGTH], reason)


# ---------------------------------------------------------------------------------------------
# E-mail


@dataclass(frozen=True, slots=True)
class EmailProvider:
    """How one provider maps addresses to mailboxes (see tables/email_providers.json)."""

    name: str
    canonical_domain: str | None
    ignore_dots: bool
    tag_separator: str | None


@dataclass(frozen=True, slots=True)
class EmailAddress:
    address: str  # the mailbox: canonical local part @ canonical domain
    local: str
    domain: str  # for blocking and for "same provider" evidence
    provider: str | None  # the provider rule that applied, for explanations


def email_providers(table: Mapping[str, Any] | None = None) -> dict[str, EmailProvider]:
    """Domain → provider rule, from the packaged table or a replacement of the same shape."""
    if table is None:
        return _packaged_providers()
    rules = {}
    for entry in table["providers"]:
        rule = EmailProvider(entry["name"], entry.get("canonical_domain"), bool(entry.get("ignore_dots")),
                             entry.get("tag_separator"))
        rules.update({domain: rule for domain in entry["domains"]})
    return rules


@cache
def _packaged_providers() -> dict[str, EmailProvider]:
    return email_providers(load_table("email_providers"))


def parse_email(value: object, *,
                providers: Mapping[str, EmailProvider] | None = None) -> EmailAddress | Rejected:
    """Validate with email-validator (syntax only, no DNS), then apply the provider's mailbox rules."""
    text = _clean(value)
    if text is None:
        return _refuse("email", value, "empty or not text")
    # Providers treat the local part case-insensitively, whatever RFC 5321 allows. Folded before
    # validation, so that the validator judges (and length-checks) the form that is kept.
    local, at, domain = text.rpartition("@")
    folded = unicodedata.normalize("NFKC", local.casefold()) + at + domain if at else text
    try:
        checked = email_validator.validate_email(folded, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return _refuse("email", value, str(exc))
    rule = (_packaged_providers() if providers is None else providers).get(checked.domain)
    return _apply_provider(value, checked.local_part, checked.domain, rule)


def _apply_provider(value: object, local: str, domain: str,
                    rule: EmailProvider | None) -> EmailAddress | Rejected:
    if rule is not None:
        if rule.tag_separator:
            local = local.split(rule.tag_separator, 1)[0]
        if rule.ignore_dots:
            local = local.replace(".", "")
        domain = rule.canonical_domain or domain
    if not local:
        return _refuse("email", value, "nothing left of the local part after the provider's rules")
    return EmailAddress(f"{local}@{domain}", local, domain, rule.name if rule else None)


def normalise_email(value: object) -> str | None:
    """The canonical mailbox address, or None when the value is not a valid address."""
    parsed = parse_email(value)
    return parsed.address if isinstance(parsed, EmailAddress) else None


# ---------------------------------------------------------------------------------------------
# Phone numbers


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str
    region: str | None  # ISO 3166-1 alpha-2 of the number's country, None for non-geographic


def parse_phone(value: object, *, region: str = DEFAULT_REGION) -> PhoneNumber | Rejected:
    """E.164 via phonenumbers; national formats are read as `region` (NL: 06-…, 0031…)."""
    text = _clean(value)
    if text is None or len(text) > 64:
        return _refuse("phone", value, "empty, not text or too long")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        return _refuse("phone", value, f"not a phone number: {exc}")
    if not phonenumbers.is_valid_number(number):
        return _refuse("phone", value, "not a valid number for its country")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, phonenumbers.region_code_for_number(number))


def normalise_phone(value: object, *, region: str = DEFAULT_REGION) -> str | None:
    parsed = parse_phone(value, region=region)
    return parsed.e164 if isinstance(parsed, PhoneNumber) else None


# ---------------------------------------------------------------------------------------------
# Names

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class PersonName:
    given_names: tuple[str, ...]  # folded full given names, in order; initials are not names
    given_initials: str  # "J.P." and "Jan Peter" both give "jp"; IJsbrand gives "ij"
    given_canonical: str | None  # baptismal form of the first given name when unambiguous
    particles: tuple[str, ...]  # tussenvoegsels as written, folded: ("van", "der") or ("v", "d")
    particle_key: str  # spelling-independent form of the particles: "van der" and "v.d." give "vd"
    family_core: str  # the surname without tussenvoegsels: "berg"
    family_phonetic: str  # Dutch sound-alike code of the core, for blocking
    key: str  # order-free key of given and family name (see name_key)


@cache
def _particles() -> frozenset[str]:
    return frozenset(load_table("name_particles")["particles"])


def _name_words(text: str | None) -> list[str]:
    """Folded words of a name; tussenvoegsels after a comma move to the front ("Berg, van der")."""
    if not text:
        return []
    folded = fold(text)
    head, comma, tail = folded.rpartition(",")
    if comma:
        tail_words = _WORD.findall(tail)
        if tail_words and all(word in _particles() for word in tail_words):
            folded = f"{tail} {head}"
    return _WORD.findall(folded)


def split_particles(words: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(particles, core): a run of particles counts as tussenvoegsel only when a real word follows.

    That keeps "Van" (a surname on its own) and initials such as "T.D." intact, while "van der
    Berg", "Jansen-de Vries" and "V.d. Berg" lose their tussenvoegsels.
    """
    particles, core, run = [], [], []
    for word in words:
        if word in _particles():
            run.append(word)
            continue
        (particles if len(word) > 1 else core).extend(run)
        core.append(word)
        run = []
    core.extend(run)
    return tuple(particles), tuple(core)


def particle_key(particles: Iterable[str]) -> str:
    """Compare tussenvoegsels across spellings: 'van der', 'van den', 'v.d.', 'vd' → 'vd'."""
    parts = load_table("name_particles")["key_parts"]
    return "".join(parts.get(word, word[:1]) for word in particles)


def name_key(given: str | None, family: str | None) -> str:
    """Sorted set of name words without tussenvoegsels: survives swapped fields, case, diacritics."""
    words = set(split_particles(_name_words(given))[1]) | set(split_particles(_name_words(family))[1])
    return " ".join(sorted(words))


def _initial(word: str) -> str:
    # IJ is one letter in Dutch: IJsbrand's initial is "IJ.".
    return "ij" if word.startswith("ij") else word[0]


def given_initials(given: str | None) -> str:
    """'J.P.', 'Jan Peter' and 'Jan-Peter' all give 'jp'."""
    return "".join(_initial(word) for word in _name_words(given))


# Dutch spelling variants that sound alike, rewritten before metaphone (which knows English only):
# sch/s (Schmidt, Smit), ij/ei/y (Meijer, Meyer, Meier), th/t (Thijs), ck/k, dt/t, gh and ch/g.
_DUTCH_SOUNDS = (("sch", "s"), ("ij", "ei"), ("ey", "ei"), ("y", "ei"), ("th", "t"), ("ph", "f"),
                 ("qu", "kw"), ("ck", "k"), ("dt", "t"), ("gh", "g"), ("ch", "g"))


def phonetic_key(word: str) -> str:
    """Dutch-adapted sound-alike code: the rewrites above, final d→t, then jellyfish's metaphone."""
    text = re.sub(r"[^a-z]", "", fold(word))
    for spelling, sound in _DUTCH_SOUNDS:
        text = text.replace(spelling, sound)
    # Final devoicing: Smid and Smit, Brand and Brant sound the same.
    text = re.sub(r"d$", "t", text)
    return jellyfish.metaphone(text) if text else ""


@cache
def _given_name_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for canonical, variants in load_table("given_names")["names"].items():
        for name in (canonical, *variants):
            index.setdefault(name, set()).add(canonical)
    return {name: frozenset(canonicals) for name, canonicals in index.items()}


def canonical_given_names(name: str | None) -> frozenset[str]:
    """Every baptismal name a given name may stand for: Kees → {cornelis}; Jo → three; Sem → {sem}."""
    words = _name_words(name)
    if not words:
        return frozenset()
    return _given_name_index().get(words[0], frozenset({words[0]}))


def known_given_name_forms(name: str | None) -> frozenset[str]:
    """The baptismal names the variants table gives a given name (Cor → {cornelis, cornelia}), or
    none when the table does not know it: two known names that share no baptismal form are two
    names, never a typing error of one (Cornelis and Cornelia)."""
    words = _name_words(name)
    return _given_name_index().get(words[0], frozenset()) if words else frozenset()


def canonical_given_name(name: str | None) -> str | None:
    """The baptismal form when the table is unambiguous, else the folded name itself (no guessing)."""
    canonicals = canonical_given_names(name)
    if len(canonicals) == 1:
        return next(iter(canonicals))
    words = _name_words(name)
    return words[0] if words else None


def parse_name(given: str | None, family: str | None) -> PersonName | None:
    """Given and family name as reported → their comparable parts; None when both are empty."""
    given_words = _name_words(given)
    particles, core = split_particles(_name_words(family))
    if not given_words and not core:
        return None
    names = tuple(word for word in given_words if len(word) > 1 and word != "ij")
    return PersonName(
        given_names=names,
        given_initials=given_initials(given),
        given_canonical=canonical_given_name(names[0]) if names else None,
        particles=particles,
        particle_key=particle_key(particles),
        family_core=" ".join(core),
        family_phonetic="-".join(filter(None, map(phonetic_key, core))),
        key=name_key(given, family),
    )


# ---------------------------------------------------------------------------------------------
# Dates of birth


class BirthPrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    RANGE = "range"  # derived from an age at a moment


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as an interval of possible dates, with how it was known."""

    earliest: date
    latest: date
    precision: BirthPrecision

    @property
    def years(self) -> range:
        return range(self.earliest.year, self.latest.year + 1)

    def iso(self) -> str:
        """ISO 8601: 1990-05-03, 1990-05, 1990, or an interval 2007-05-02/2008-05-01."""
        if self.precision is BirthPrecision.DAY:
            return self.earliest.isoformat()
        if self.precision is BirthPrecision.MONTH:
            return self.earliest.isoformat()[:7]
        if self.precision is BirthPrecision.YEAR:
            return str(self.earliest.year)
        return f"{self.earliest.isoformat()}/{self.latest.isoformat()}"


_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
EARLIEST_BIRTH_YEAR = 1900


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _parse_partial(text: str) -> BirthDate | None:
    match = _PARTIAL_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        if day is not None:
            exact = date(year, month, day)
            return BirthDate(exact, exact, BirthPrecision.DAY)
        if month is not None:
            return BirthDate(date(year, month, 1), _month_end(year, month), BirthPrecision.MONTH)
        return BirthDate(date(year, 1, 1), date(year, 12, 31), BirthPrecision.YEAR)
    except ValueError:
        return None


def _parse_interval(text: str) -> BirthDate | None:
    start, _, end = text.partition("/")
    try:
        earliest, latest = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return None
    return BirthDate(earliest, latest, BirthPrecision.RANGE) if earliest <= latest else None


def parse_birth_date(value: date | str | None) -> BirthDate | None:
    """A full date, a year-month, a year, or an interval (as `BirthDate.iso` writes it); else None."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        parsed: BirthDate | None = BirthDate(value, value, BirthPrecision.DAY)
    else:
        text = _clean(value)
        if text is None:
            return None
        parsed = _parse_interval(text) if "/" in text else _parse_partial(text)
    return parsed if parsed and parsed.earliest.year >= EARLIEST_BIRTH_YEAR else None


def _years_before(moment: date, years: int) -> date:
    # 29 February minus a number of years lands on 28 February in a common year.
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def birth_range_from_age(age: int | None, at: date | datetime | None) -> BirthDate | None:
    """Age at a moment → possible birth dates: 15 on 2023-05-01 → 2007-05-02 .. 2008-05-01."""
    if age is None or at is None or not 0 <= age <= 120:
        return None
    moment = at.date() if isinstance(at, datetime) else at
    if moment.year - age - 1 < EARLIEST_BIRTH_YEAR:
        return None
    latest = _years_before(moment, age)
    earliest = _years_before(moment, age + 1) + timedelta(days=1)
    return BirthDate(earliest, latest, BirthPrecision.RANGE)


class BirthAgreement(StrEnum):
    EXACT = "exact"
    TRANSPOSED = "transposed"  # day and month swapped: 1990-03-05 against 1990-05-03
    YEAR_ONLY = "year_only"  # the years agree, nothing finer does (or nothing finer is known)
    WITHIN_RANGE = "within_range"  # an age-derived range is consistent with the other side
    CONFLICT = "conflict"
    UNKNOWN = "unknown"


def compare_birth(a: BirthDate | None, b: BirthDate | None) -> BirthAgreement:
    if a is None or b is None:
        return BirthAgreement.UNKNOWN
    if a.precision is BirthPrecision.DAY and b.precision is BirthPrecision.DAY:
        return _compare_days(a.earliest, b.earliest)
    overlap = a.earliest <= b.latest and b.earliest <= a.latest
    if BirthPrecision.RANGE in (a.precision, b.precision):
        return BirthAgreement.WITHIN_RANGE if overlap else BirthAgreement.CONFLICT
    same_year = a.earliest.year == b.earliest.year
    return BirthAgreement.YEAR_ONLY if same_year else BirthAgreement.CONFLICT


def _compare_days(a: date, b: date) -> BirthAgreement:
    if a == b:
        return BirthAgreement.EXACT
    if a.year != b.year:
        return BirthAgreement.CONFLICT
    if (a.day, a.month) == (b.month, b.day):
        return BirthAgreement.TRANSPOSED
    return BirthAgreement.YEAR_ONLY


# ---------------------------------------------------------------------------------------------
# Postcodes and addresses

# Dutch postcodes: four digits not starting with 0, two letters; SA, SD and SS are never issued.
_NL_POSTCODE = re.compile(r"([1-9][0-9]{3})[ -]?([A-Z]{2})")
_NL_UNUSED_LETTERS = frozenset({"SA", "SD", "SS"})
_FOREIGN_POSTCODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,11}")


def _country(country: str | None, default: str) -> str:
    return (_clean(country) or default).upper()


def normalise_postcode(value: object, country: str | None = None, *,
                       default_country: str = DEFAULT_REGION) -> str | None:
    """Dutch: '1234 ab', '1234-AB' → '1234AB', invalid → None. Foreign: upper case, no spaces."""
    text = _clean(value)
    if text is None:
        return None
    text = text.upper()
    if _country(country, default_country) != "NL":
        compact = re.sub(r"\s+", "", text)
        return compact if _FOREIGN_POSTCODE.fullmatch(compact) else None
    match = _NL_POSTCODE.fullmatch(re.sub(r"\s+", " ", text))
    if match is None or match.group(2) in _NL_UNUSED_LETTERS:
        return None
    return match.group(1) + match.group(2)


def postcode_area(postcode: str | None) -> str | None:
    """The four digits of a normalised Dutch postcode (a neighbourhood), for blocking."""
    if postcode and _NL_POSTCODE.fullmatch(postcode):
        return postcode[:4]
    return None


@dataclass(frozen=True, slots=True)
class NormalisedAddress:
    street: str | None  # folded, abbreviations written out: "dorpsstraat"
    house_number: str | None  # digits only: "12"
    addition: str | None  # letters/digits after the number, no separators: "a", "hs", "ii"
    postcode: str | None
    city: str | None
    country: str | None  # ISO 3166-1 alpha-2, upper case

    @property
    def key(self) -> str:
        """One address written one way: where (postcode, else city) | street | number+addition."""
        number = (self.house_number or "") + (self.addition or "")
        return f"{self.postcode or self.city or ''}|{self.street or ''}|{number}"


def _street_word(word: str, table: Mapping[str, Any]) -> str:
    if word in table["words"]:
        return table["words"][word]
    for suffix, full in table["suffixes"].items():
        if word.endswith(suffix):
            return word[: -len(suffix)] + full
    return word


def parse_street(value: object) -> tuple[str | None, str | None, str | None]:
    """'Dorpsstraat 12-a' and 'dorpsstr. 12A' → ('dorpsstraat', '12', 'a').

    The house number is the first word starting with a digit after the street's first real word,
    so '1e Oosterparkstraat 3' keeps its '1e'. A number inside a street name ('Plein 1944 2') is
    read as the house number: rare, and then both spellings still agree with each other.
    """
    text = _clean(value)
    if text is None:
        return None, None, None
    words = _WORD.findall(fold(text))
    table = load_table("street_words")
    for index, word in enumerate(words):
        if index > 0 and word[0].isdecimal() and any(len(w) > 1 and w.isalpha() for w in words[:index]):
            digits = re.match(r"\d+", word).group()
            addition = word[len(digits):] + "".join(words[index + 1:])
            street = " ".join(_street_word(w, table) for w in words[:index])
            return street, str(int(digits)), addition or None
    street = " ".join(_street_word(w, table) for w in words)
    return street or None, None, None


def normalise_address(address: Address, *, default_country: str = DEFAULT_REGION) -> NormalisedAddress | None:
    """An address with every part normalised; None when nothing usable is left."""
    country = _clean(address.country)
    street, number, addition = parse_street(address.street)
    city = " ".join(_WORD.findall(fold(address.city))) if _clean(address.city) else None
    postcode = normalise_postcode(address.postcode, country, default_country=default_country)
    if not (street or postcode or city):
        return None
    return NormalisedAddress(street, number, addition, postcode, city or None,
                             country.upper() if country else None)


# ---------------------------------------------------------------------------------------------
# IP addresses

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# RFC 6598 shared address space: a mobile or fibre provider's NAT puts thousands of customers
# behind one such address, so the address says nothing about who was there.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class IpClass(StrEnum):
    PUBLIC = "public"
    SHARED = "shared"  # a known shared public range (tables/shared_ip_ranges.json)
    CGNAT = "cgnat"
    PRIVATE = "private"  # private, loopback, link-local, reserved, documentation, multicast


def normalise_ip(value: object) -> str | None:
    """Canonical text of an IPv4/IPv6 address; IPv4-mapped IPv6 (::ffff:1.2.3.4) becomes IPv4."""
    return _normalise_ip_text(value) if isinstance(value, str) else _normalise_ip(value)


@lru_cache(maxsize=1 << 16)  # linking an ingest batch meets the same addresses again and again
def _normalise_ip_text(value: str) -> str | None:
    return _normalise_ip(value)


def _normalise_ip(value: object) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def shared_ranges(entries: Iterable[str] | None = None) -> tuple[IpNetwork, ...]:
    """Known shared ranges: the packaged table, or the given CIDR strings."""
    if entries is None:
        return _packaged_shared_ranges()
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in entries)


@cache
def _packaged_shared_ranges() -> tuple[IpNetwork, ...]:
    return shared_ranges([entry["cidr"] for entry in load_table("shared_ip_ranges")["ranges"]])


def classify_ip(ip: str, *, shared: Sequence[IpNetwork] | None = None) -> IpClass | None:
    """What an address says about who used it; None when it is not an address."""
    if shared is None and isinstance(ip, str):
        return _classify_packaged(ip)
    return _classify(ip, shared)


@lru_cache(maxsize=1 << 16)
def _classify_packaged(ip: str) -> IpClass | None:
    return _classify(ip, None)


def _classify(ip: str, shared: Sequence[IpNetwork] | None) -> IpClass | None:
    canonical = normalise_ip(ip)
    if canonical is None:
        return None
    address = ipaddress.ip_address(canonical)
    if address in CGNAT:
        return IpClass.CGNAT
    if any(address in network for network in (shared_ranges() if shared is None else shared)):
        return IpClass.SHARED
    if not address.is_global or address.is_multicast:
        return IpClass.PRIVATE
    return IpClass.PUBLIC


@dataclass(frozen=True, slots=True)
class IpSighting:
    ip: str
    ip_class: IpClass
    event: str
    at: datetime | None  # UTC


class IpAgreement(StrEnum):
    """Same address alone is weak: it counts only when public and seen close together in time."""

    CLOSE = "close"  # same public address within the close window (default 1 hour)
    WITHIN_WINDOW = "within_window"  # same public address within the window (default 24 hours)
    OUTSIDE_WINDOW = "outside_window"  # same public address, too far apart: counts nothing
    NO_TIME = "no_time"  # same public address, a time is missing: counts nothing
    SHARED_RANGE = "shared_range"  # same address in a CGNAT, shared or private range: counts nothing
    DIFFERENT = "different"
    UNKNOWN = "unknown"

    @property
    def counts(self) -> bool:
        return self in (IpAgreement.CLOSE, IpAgreement.WITHIN_WINDOW)


# Strongest first: best_ip_agreement keeps the first level in this order that any pair reaches.
_IP_AGREEMENT_ORDER = tuple(IpAgreement)
DEFAULT_IP_WINDOW = timedelta(hours=24)
DEFAULT_IP_CLOSE = timedelta(hours=1)


def ip_sighting(event: IpEvent, *, shared: Sequence[IpNetwork] | None = None) -> IpSighting | Rejected:
    ip = normalise_ip(event.ip)
    if ip is None:
        return _refuse("ip", event.ip, "not an IP address")
    at = event.at
    if at is not None:
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return IpSighting(ip, classify_ip(ip, shared=shared), event.event, at)


def ip_agreement(a: IpSighting, b: IpSighting, *, window: timedelta = DEFAULT_IP_WINDOW,
                 close: timedelta = DEFAULT_IP_CLOSE) -> IpAgreement:
    if a.ip != b.ip:
        return IpAgreement.DIFFERENT
    if a.ip_class is not IpClass.PUBLIC:
        return IpAgreement.SHARED_RANGE
    if a.at is None or b.at is None:
        return IpAgreement.NO_TIME
    gap = abs(a.at - b.at)
    if gap <= close:
        return IpAgreement.CLOSE
    return IpAgreement.WITHIN_WINDOW if gap <= window else IpAgreement.OUTSIDE_WINDOW


def best_ip_agreement(a: Iterable[IpSighting], b: Iterable[IpSighting], *,
                      window: timedelta = DEFAULT_IP_WINDOW,
                      close: timedelta = DEFAULT_IP_CLOSE) -> IpAgreement:
    """The strongest agreement between any sighting of one person and any of the other."""
    by_ip: dict[str, list[IpSighting]] = {}
    for sighting in b:
        by_ip.setdefault(sighting.ip, []).append(sighting)
    a = list(a)
    if not a or not by_ip:
        return IpAgreement.UNKNOWN
    levels = {ip_agreement(x, y, window=window, close=close) for x in a for y in by_ip.get(x.ip, ())}
    return next((level for level in _IP_AGREEMENT_ORDER if level in levels), IpAgreement.DIFFERENT)


# ---------------------------------------------------------------------------------------------
# Platform-scoped identifiers and devices


@dataclass(frozen=True, slots=True)
class PlatformId:
    """A user id or screen name: only unique within its platform."""

    platform: str | None
    value: str


def normalise_platform(value: object) -> str | None:
    """'Snapchat', ' snapchat ' and 'SNAPCHAT' → 'snapchat'; punctuation and spaces dropped."""
    text = _clean(value)
    if text is None:
        return None
    return "".join(_WORD.findall(fold(text))) or None


def normalise_account(value: object) -> str | None:
    """Screen names and user ids: NFKC, case-folded, without a leading @."""
    text = _clean(value)
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text.casefold()).lstrip("@").strip()
    return folded or None


_DEVICE_SEPARATORS = re.compile(r"[\s:._-]+")


def normalise_device_id(value: object) -> str | None:
    """Upper case, separators removed. Placeholder ids (all zeros: an advertising id with tracking
    switched off) and very short values are refused: thousands of unrelated devices report them."""
    text = _clean(value)
    if text is None:
        return None
    # NFKC again after removing separators: a mark that followed a space may now compose.
    upper = unicodedata.normalize("NFKC", text.upper())
    compact = unicodedata.normalize("NFKC", _DEVICE_SEPARATORS.sub("", upper))
    if len(compact) < 6 or len(set(compact)) == 1:
        return None
    return compact


# ---------------------------------------------------------------------------------------------
# One reported person


@dataclass(frozen=True, slots=True)
class NormalisedPerson:
    ref: str
    name: PersonName | None
    birth: BirthDate | None
    emails: frozenset[EmailAddress]
    phones: frozenset[PhoneNumber]
    accounts: frozenset[PlatformId]  # platform user ids (esp_user_id)
    screen_names: frozenset[PlatformId]
    devices: frozenset[str]
    addresses: frozenset[NormalisedAddress]
    ip_sightings: tuple[IpSighting, ...]
    verified: frozenset[str]  # blocking keys of identifiers the platform reported as verified
    rejected: tuple[Rejected, ...]  # what could not be normalised, and why


# The NormalisedPerson fields that hold exact identifiers, each a set of normalised values.
_IDENTIFIER_FIELDS = ("emails", "phones", "accounts", "screen_names", "devices")


def _platform_id(identifier: Identifier, default_platform: str | None) -> PlatformId | Rejected:
    value = normalise_account(identifier.value)
    if value is None:
        return _refuse(identifier.kind, identifier.value, "empty or not text")
    return PlatformId(normalise_platform(identifier.platform or default_platform), value)


def _device(identifier: Identifier) -> str | Rejected:
    device = normalise_device_id(identifier.value)
    return device if device else _refuse("device_id", identifier.value, "empty, too short or a placeholder")


def _normalise_identifier(identifier: Identifier, *, default_platform: str | None,
                          region: str) -> tuple[str, Any] | Rejected:
    """(field of NormalisedPerson, value) or Rejected."""
    if identifier.kind == "email":
        parsed = parse_email(identifier.value)
        return parsed if isinstance(parsed, Rejected) else ("emails", parsed)
    if identifier.kind == "phone":
        parsed = parse_phone(identifier.value, region=region)
        return parsed if isinstance(parsed, Rejected) else ("phones", parsed)
    if identifier.kind in ("esp_user_id", "screen_name"):
        parsed = _platform_id(identifier, default_platform)
        field = "accounts" if identifier.kind == "esp_user_id" else "screen_names"
        return parsed if isinstance(parsed, Rejected) else (field, parsed)
    if identifier.kind == "device_id":
        parsed = _device(identifier)
        return parsed if isinstance(parsed, Rejected) else ("devices", parsed)
    return _refuse(identifier.kind, identifier.value, "unknown identifier kind")


def _birth(person: ReportedPerson, incident_at: date | datetime | None) -> BirthDate | Rejected | None:
    if person.date_of_birth is not None:
        if person.date_of_birth.isoformat() in load_table("birth_dates")["placeholders"]:
            return _refuse("date_of_birth", person.date_of_birth.isoformat(), "a system placeholder date")
        return parse_birth_date(person.date_of_birth)
    return birth_range_from_age(person.age, incident_at)


def normalise_person(person: ReportedPerson, *, incident_at: date | datetime | None = None,
                     default_platform: str | None = None, region: str = DEFAULT_REGION,
                     shared: Sequence[IpNetwork] | None = None) -> NormalisedPerson:
    """Everything comparable about one reported person.

    incident_at turns a reported age into a birth range; default_platform (the reporting ESP)
    scopes user ids and screen names that name no platform; region reads national phone numbers
    and addresses without a country; shared overrides the table of shared IP ranges.
    """
    fields: dict[str, set] = {name: set() for name in _IDENTIFIER_FIELDS}
    rejected, verified = [], set()
    for identifier in person.identifiers:
        result = _normalise_identifier(identifier, default_platform=default_platform, region=region)
        if isinstance(result, Rejected):
            rejected.append(result)
            continue
        fields[result[0]].add(result[1])
        if identifier.verified:
            verified.update(_identifier_keys(result[0], result[1]))
    birth = _birth(person, incident_at)
    if isinstance(birth, Rejected):
        rejected.append(birth)
        birth = None
    sightings = [ip_sighting(event, shared=shared) for event in person.ip_events]
    rejected.extend(s for s in sightings if isinstance(s, Rejected))
    addresses = (normalise_address(a, default_country=region) for a in person.addresses)
    return NormalisedPerson(
        ref=person.ref,
        name=parse_name(person.given_name, person.family_name),
        birth=birth,
        **{name: frozenset(values) for name, values in fields.items()},
        addresses=frozenset(a for a in addresses if a is not None),
        ip_sightings=tuple(s for s in sightings if isinstance(s, IpSighting)),
        verified=frozenset(verified),
        rejected=tuple(rejected),
    )


# ---------------------------------------------------------------------------------------------
# Blocking keys

# A birth range from an age spans two calendar years; wider ranges would make blocks too big.
_MAX_BLOCKING_YEARS = 2


def _identifier_keys(field: str, value: Any) -> set[str]:
    if field == "emails":
        return {f"email:{value.address}"}
    if field == "phones":
        return {f"phone:{value.e164}"}
    if field == "devices":
        return {f"dev:{value}"}
    # A user id or screen name without a platform is not unique: not indexed.
    if value.platform is None:
        return set()
    prefix = "uid" if field == "accounts" else "sn"
    return {f"{prefix}:{value.platform}:{value.value}"}


def blocking_keys(person: NormalisedPerson) -> set[str]:
    """Indexed keys that find candidate subjects without scanning.

    Exact identifiers (email, phone, platform user id, screen name, device) each give a key; a name
    gives one with each possible birth year and one with each postcode. IP addresses give none
    here: whether an address is shared is known only from the registry, so the fast path adds
    `ip:` keys itself for the addresses its fan-out guard has not found shared (fastpath.decide).
    """
    keys: set[str] = set()
    for field in _IDENTIFIER_FIELDS:
        for value in getattr(person, field):
            keys |= _identifier_keys(field, value)
    return keys | _name_keys(person)


def _name_keys(person: NormalisedPerson) -> set[str]:
    name = person.name
    if name is None or not name.family_core:
        return set()
    keys = set()
    core = name.family_core.replace(" ", "-")
    # A surname in another script has no sound code; its folded core still finds the same spelling.
    sound = name.family_phonetic or core
    if person.birth and len(person.birth.years) <= _MAX_BLOCKING_YEARS:
        keys |= {f"name_yob:{sound}:{year}" for year in person.birth.years}
    keys |= {f"pc_name:{a.postcode}:{core}" for a in person.addresses if a.postcode}
    return keys
