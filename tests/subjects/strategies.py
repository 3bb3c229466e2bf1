"""Hypothesis strategies for identifier normalisation: synthetic Dutch people and their identifiers.

Names come from Faker (nl_NL) seeded by Hypothesis; phone numbers are drawn from the Dutch mobile
range and from phonenumbers' own example numbers; e-mail addresses use Faker user names. Nothing
here is a real person.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import phonenumbers
from faker import Faker
from hypothesis import strategies as st

from tiptriage.intake.domain import IDENTIFIER_KINDS, IP_EVENTS, Address, Identifier, IpEvent, ReportedPerson
from tiptriage.subjects.identifiers import load_table

_FAKE = Faker("nl_NL")
PARTICLE_WORDS = frozenset(load_table("name_particles")["particles"])


def faker(method: str) -> st.SearchStrategy[str]:
    """A Faker (nl_NL) value, reproducible from a Hypothesis-drawn seed."""
    def make(seed: int) -> str:
        _FAKE.seed_instance(seed)
        return str(getattr(_FAKE, method)())

    return st.integers(0, 2**32 - 1).map(make)


given_names = faker("first_name")
family_names = faker("last_name")
# Surnames without tussenvoegsel: the core that particle spellings are attached to.
family_cores = family_names.filter(lambda name: name.isalpha() and name.lower() not in PARTICLE_WORDS)

# Arbitrary text, including what normalisers must survive: every Unicode category but surrogates.
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)

# Dutch mobile numbers: 06 followed by eight digits, second digit in the issued ranges.
nl_mobile_subscribers = st.from_regex(r"[1-58][0-9]{7}", fullmatch=True)

# Regions whose example numbers phonenumbers ships; their international format names the country.
_REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r) is not None)
foreign_numbers = st.sampled_from([r for r in _REGIONS if r != "NL"]).map(phonenumbers.example_number)

# Local parts gmail accepts and keeps: letters and digits (dots and tags are what we vary).
gmail_locals = st.from_regex(r"[a-z][a-z0-9]{5,20}", fullmatch=True)

_ACCENTS = {"a": "áàäâ", "e": "éèëê", "i": "íìïî", "o": "óòöôø", "u": "úùüû", "c": "ç", "n": "ñ", "y": "ý"}


@st.composite
def accented(draw, text: str) -> str:
    """The same text with some Latin letters given diacritics, as a form or a keyboard might."""
    out = []
    for char in text:
        options = _ACCENTS.get(char.lower())
        if options and draw(st.booleans()):
            accent = draw(st.sampled_from(options))
            char = accent.upper() if char.isupper() else accent
        out.append(char)
    return "".join(out)


# How the same tussenvoegsel is written in reports: full, after a comma, abbreviated, any case.
PARTICLE_SPELLINGS = {
    "van der": ["van der", "Van der", "VAN DER", "v.d.", "V.d.", "vd", "v/d", "van de"],
    "van den": ["van den", "Van Den", "v.d.", "vd", "v/d", "van der"],
    "van de": ["van de", "v.d.", "vd", "V.D."],
    "van 't": ["van 't", "van het", "Van 'T", "van ’t"],
    "in 't": ["in 't", "in het", "In 'T"],
    "van": ["van", "Van", "v.", "V."],
    "de": ["de", "De", "DE"],
    "ter": ["ter", "Ter"],
    "den": ["den", "Den"],
}


@st.composite
def spelled_family(draw, particle: str, core: str) -> str:
    spelling = draw(st.sampled_from(PARTICLE_SPELLINGS[particle]))
    if draw(st.booleans()):
        return f"{core}, {spelling}"
    return f"{spelling} {core}"


utc_datetimes = st.datetimes(datetime(1995, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
birth_dates = st.dates(date(1930, 1, 1), date(2020, 12, 31))


def reported_persons() -> st.SearchStrategy[ReportedPerson]:
    """Reported persons whose every field is arbitrary text: normalisation must never raise."""
    identifiers = st.builds(Identifier, kind=st.sampled_from(IDENTIFIER_KINDS), value=any_text,
                            verified=st.none() | st.booleans(), platform=st.none() | any_text)
    addresses = st.builds(Address, street=st.none() | any_text, postcode=st.none() | any_text,
                          city=st.none() | any_text, country=st.none() | any_text)
    ip_events = st.builds(IpEvent, ip=any_text | st.ip_addresses().map(str), event=st.sampled_from(IP_EVENTS),
                          at=st.none() | st.datetimes(), port=st.none() | st.integers(0, 65535))
    return st.builds(
        ReportedPerson, ref=st.just("p1"), given_name=st.none() | any_text, family_name=st.none() | any_text,
        date_of_birth=st.none() | st.dates(), age=st.none() | st.integers(-5, 200),
        identifiers=st.lists(identifiers, max_size=5).map(tuple),
        addresses=st.lists(addresses, max_size=2).map(tuple),
        ip_events=st.lists(ip_events, max_size=3).map(tuple),
    )
