"""The synthetic population: who the reported persons, recipients and victims really are.

Faker (nl_NL, and a few neighbouring locales for people abroad) fills small pools of names,
streets and towns once per seed; persons are then combined from the pools with the generator's
own `random.Random`, which keeps 100,000 reports fast and every seed reproducible.
"""

from __future__ import annotations

import ipaddress
import random
import re
from dataclasses import dataclass, field
from datetime import date

from faker import Faker
from faker.providers.person.nl_NL import Provider as NlNames

from tiptriage.synth import reference as ref
from tiptriage.synth.noise import age_at

_SANE_NAME = re.compile(r"^(?:(?:van|de|den|ter|ten|van 't|van der|van den|van de) )?[A-Z][a-zë]+$")


@dataclass(frozen=True, slots=True)
class Home:
    street: str
    postcode: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    unit: str | None  # the Dutch regional unit; None abroad


@dataclass(slots=True, eq=False)
class Account:
    """One account on one platform; a person may open a new one after being reported."""

    platform: str
    screen_name: str
    user_id: str
    device_id: str
    email: str | None


@dataclass(slots=True, eq=False)  # a person is who they are, not what they look like
class Person:
    pid: str
    sex: str
    given: str  # the official first name
    call_name: str  # the name the person goes by (a nickname of a formal name, or the same)
    family: str
    dob: date
    country: str
    homes: list[tuple[date, Home]]  # (from, home), oldest first: people move
    phone: str | None  # E.164
    emails: list[str]
    devices: list[str] = field(default_factory=list)
    home_ips: list[str] = field(default_factory=list)
    accounts: dict[str, list[Account]] = field(default_factory=dict)

    @property
    def abroad(self) -> bool:
        return self.country != "NL"

    def age_on(self, when: date) -> int:
        return age_at(self.dob, when)

    def home_on(self, when: date) -> Home:
        current = self.homes[0][1]
        for since, home in self.homes:
            if since <= when:
                current = home
        return current


class Pools:
    """Names, streets and towns drawn once from Faker for one seed."""

    def __init__(self, seed: int):
        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        self.male = tuple(NlNames.first_names_male)
        self.female = tuple(NlNames.first_names_female)
        self.family = tuple(sorted({n for n in NlNames.last_names if _SANE_NAME.match(n)}))
        self.streets = tuple(sorted({fake.street_name() for _ in range(1500)}))
        self.foreign_places: dict[str, tuple[tuple[str, str, str], ...]] = {}  # (street, postcode, city)
        for country, info in ref.FOREIGN.items():
            local = Faker(info["locale"])
            local.seed_instance(seed)
            self.foreign_places[country] = tuple(sorted({(local.street_name(), local.postcode(), local.city())
                                                          for _ in range(150)}))
        self.city_weights = [c[4] for c in ref.CITIES]
        self.country_weights = [info["weight"] for info in ref.FOREIGN.values()]
        self.networks: dict[tuple[str, int], tuple] = {}  # (country, IP version) -> networks
        for country, blocks in ref.IP_BLOCKS.items():
            nets = [ipaddress.ip_network(b) for b in blocks]
            for version in (4, 6):
                self.networks[country, version] = tuple(n for n in nets if n.version == version) or tuple(nets)


def nl_postcode(rng: random.Random, low: int, high: int) -> str:
    while True:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRTVWXZ") for _ in range(2))
        if letters not in ref.POSTCODE_EXCLUDED_LETTERS:
            return f"{rng.randint(low, high)} {letters}"


def make_home(pools: Pools, rng: random.Random, country: str) -> Home:
    if country == "NL":
        city, low, high, unit, _ = rng.choices(ref.CITIES, weights=pools.city_weights)[0]
        street = f"{rng.choice(pools.streets)} {rng.randint(1, 180)}{rng.choice(('', '', '', 'A', 'B', '-2'))}"
        return Home(street, nl_postcode(rng, low, high), city, "NL", unit)
    street, postcode, city = rng.choice(pools.foreign_places[country])
    return Home(f"{street} {rng.randint(1, 120)}", postcode, city, country, None)


def make_phone(rng: random.Random, country: str) -> str:
    if country == "NL":
        return f"+316{rng.randrange(10**8):08d}"
    prefix, digits = ref.FOREIGN[country]["mobile"]
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"


def random_ip(pools: Pools, rng: random.Random, country: str, *, v6: bool = False) -> str:
    net = rng.choice(pools.networks[country, 6 if v6 else 4])
    host = rng.randrange(1, min(net.num_addresses - 1, 2**64))
    return str(net.network_address + host)


def _ascii(text: str) -> str:
    table = str.maketrans("ëéèïöüáàç", "eeeiouaac", "' ")
    return text.lower().translate(table)


def make_email(rng: random.Random, call_name: str, family: str, year: int, provider: str | None = None) -> str:
    first, last = _ascii(call_name), _ascii(family.split(", ")[0])
    local = rng.choice((f"{first}.{last}", f"{first}{last}{year % 100:02d}", f"{first[0]}{last}",
                        f"{last}.{first}", f"{first}_{year}", f"{first}{rng.randint(1, 999)}"))
    return f"{local}@{provider or rng.choice(ref.EMAIL_PROVIDERS_NL)}"


def _names(pools: Pools, rng: random.Random, sex: str, born: int) -> tuple[str, str, str]:
    """(official given name, call name, family name); older people more often carry a formal name."""
    formal = ref.FORMAL_MALE if sex == "M" else ref.FORMAL_FEMALE
    if rng.random() < (0.5 if born < 1975 else 0.12):
        given = rng.choice(formal)
        call = rng.choice(ref.NICKNAMES[given])
    else:
        given = call = rng.choice(pools.male if sex == "M" else pools.female)
    family = rng.choice(ref.COMMON_FAMILY_NAMES) if rng.random() < 0.3 else rng.choice(pools.family)
    return given, call, family


def make_person(pools: Pools, rng: random.Random, pid: str, *, dob: date, country: str,
                first_seen: date) -> Person:
    sex = rng.choice("MF") if rng.random() < 0.2 else "M"  # most reported persons are men
    given, call, family = _names(pools, rng, sex, dob.year)
    homes = [(date(1900, 1, 1), make_home(pools, rng, country))]
    if rng.random() < 0.08:  # moved during the period
        homes.append((date.fromordinal(first_seen.toordinal() + rng.randint(60, 500)), make_home(pools, rng, country)))
    providers = ref.EMAIL_PROVIDERS_NL if country == "NL" else ref.EMAIL_PROVIDERS_INTERNATIONAL
    emails = [make_email(rng, call, family, dob.year, rng.choice(providers))]
    if rng.random() < 0.3:
        other = [p for p in providers if p != emails[0].split("@")[1]]
        emails.append(make_email(rng, call, family, dob.year, rng.choice(other)))
    person = Person(pid, sex, given, call, family, dob, country, homes,
                    make_phone(rng, country) if rng.random() < 0.85 else None, emails)
    person.devices.append(device_id(rng))
    person.home_ips.extend(random_ip(pools, rng, country) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        person.home_ips.append(random_ip(pools, rng, country, v6=True))
    return person


def device_id(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"35{rng.randrange(10**13):013d}"  # IMEI-shaped
    return "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                           0x8000 | rng.getrandbits(14), rng.getrandbits(48))


def device_type(value: str) -> str:
    """The idType NCMEC's deviceId requires: an IMEI, or the app's installation id (a UUID)."""
    return "IMEI" if value.isdigit() else "UUID"


def screen_name(rng: random.Random, person: Person) -> str:
    first, last = _ascii(person.call_name), _ascii(person.family.split(", ")[0])
    word = rng.choice(ref.SCREEN_WORDS)
    return rng.choice((f"{first}{person.dob.year % 100:02d}", f"{word}_{first}", f"{first}.{last[:3]}",
                       f"{word}{rng.randint(1, 9999)}", f"x{first}x", f"{last}{rng.randint(10, 99)}",
                       f"the_{word}_{rng.randint(1, 99)}"))


def new_account(rng: random.Random, person: Person, platform: str) -> Account:
    """A new account; mostly on a device the person already used, which is what links them."""
    if rng.random() < 0.2:
        person.devices.append(device_id(rng))
    digits = rng.randint(9, 12)
    account = Account(platform, screen_name(rng, person), str(rng.randrange(10 ** (digits - 1), 10**digits)),
                      rng.choice(person.devices), rng.choice(person.emails) if person.emails else None)
    person.accounts.setdefault(platform, []).append(account)
    return account


def make_contact(pools: Pools, rng: random.Random, pid: str, *, minor: bool) -> Person:
    """A recipient or victim: never reported themselves, known to the report only by an account.

    Birth dates keep minors under 18 and adults 18 or over during the whole reference period.
    """
    if minor:
        dob = date.fromordinal(rng.randint(date(2007, 7, 1).toordinal(), date(2011, 12, 31).toordinal()))
    else:
        dob = date.fromordinal(rng.randint(date(1962, 1, 1).toordinal(), date(2003, 12, 31).toordinal()))
    sex = rng.choice("MF")
    given, call, family = _names(pools, rng, sex, dob.year)
    return Person(pid, sex, given, call, family, dob, "NL", [(date(1900, 1, 1), make_home(pools, rng, "NL"))],
                  None, [], [device_id(rng)])
