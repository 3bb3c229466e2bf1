"""Identity noise: the ways one real person's details differ between reports.

Each function takes a value as the synthetic world knows it and a `random.Random`, and returns the
form a platform or hotline might have reported: typos, nicknames, swapped name order, e-mail and
phone variants, default or swapped birth dates. Linkage has to see through all of these.
"""

from __future__ import annotations

import random
from datetime import date

from tiptriage.synth.reference import GMAIL_STYLE, NICKNAMES, TUSSENVOEGSELS

_VOWEL_SWAPS = (("ij", "y"), ("y", "ij"), ("ei", "ij"), ("ou", "au"), ("ck", "k"), ("ph", "f"))


def typo(name: str, rng: random.Random) -> str:
    """One keyboard or hearing slip: a swapped, dropped or doubled letter, or ij/y-style spelling."""
    for old, new in _VOWEL_SWAPS:
        if old in name and rng.random() < 0.3:
            return name.replace(old, new, 1)
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 3:
        return name + name[-1]
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(3)
    if kind == 0 and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    return name[:i] + name[i] + name[i:]


def short_form(given: str, rng: random.Random) -> str | None:
    """A nickname or short form of a formal first name, or None when it has none."""
    forms = NICKNAMES.get(given)
    return rng.choice(forms) if forms else None


def family_name_variant(family: str, rng: random.Random) -> str:
    """How a family name with a tussenvoegsel gets written by others: capitalised, abbreviated, glued."""
    for prefix in TUSSENVOEGSELS:
        if family.startswith(prefix + " "):
            rest = family[len(prefix) + 1:]
            choice = rng.randrange(4)
            if choice == 0:
                return prefix.title() + " " + rest
            if choice == 1 and prefix in ("van der", "van den", "van de"):
                return "v.d. " + rest
            if choice == 2:
                return (prefix.replace(" ", "").replace("'", "") + rest.lower()).capitalize()
            return f"{rest}, {prefix}"
    return family.upper() if rng.random() < 0.5 else family.lower()


def email_variant(email: str, rng: random.Random, tags: tuple[str, ...] = ("chat", "x", "news", "2")) -> str:
    """The same mailbox written differently: case, and for gmail-style providers dots and +tags."""
    local, _, domain = email.partition("@")
    if domain in GMAIL_STYLE and rng.random() < 0.7:
        bare = local.replace(".", "")
        if rng.random() < 0.5 and len(bare) > 3:
            cut = rng.randrange(1, len(bare) - 1)
            local = bare[:cut] + "." + bare[cut:]
        else:
            local = bare
        if rng.random() < 0.5:
            local += "+" + rng.choice(tags)
    if rng.random() < 0.5:
        local = local[:1].upper() + local[1:]
        domain = domain.capitalize() if rng.random() < 0.5 else domain
    return f"{local}@{domain}"


def gmail_canonical(email: str) -> str:
    """The mailbox an address reaches: lower case; for gmail-style providers without dots and +tag."""
    local, _, domain = email.lower().partition("@")
    if domain in GMAIL_STYLE:
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}"


def phone_format(e164: str, rng: random.Random) -> str:
    """A phone number in one of the notations people and platforms use."""
    if not e164.startswith("+31"):
        national = e164[3:]
        return rng.choice((e164, f"{e164[:3]} {national}", "00" + e164[1:]))
    rest = e164[3:]  # e.g. 612345678
    forms = (e164, f"+31 {rest[0]} {rest[1:5]} {rest[5:]}", f"0{rest[0]}-{rest[1:]}", "00" + e164[1:],
             "0" + rest, f"0{rest[0]} {rest[1:3]} {rest[3:5]} {rest[5:7]} {rest[7:]}", f"(0{rest[0]}) {rest[1:]}")
    return rng.choice(forms)


def phone_digits(value: str) -> str:
    """International digits of any notation phone_format produces (for tests and truth checks)."""
    digits = "".join(c for c in value if c.isdigit())
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "31" + digits[1:]
    return digits


def birth_date_view(dob: date, rng: random.Random) -> date:
    """A reported date of birth that is not the true one: a platform default or day and month swapped."""
    if dob.day <= 12 and dob.day != dob.month and rng.random() < 0.5:
        return dob.replace(month=dob.day, day=dob.month)
    return date(dob.year, 1, 1)


def age_at(dob: date, when: date) -> int:
    return when.year - dob.year - ((when.month, when.day) < (dob.month, dob.day))
