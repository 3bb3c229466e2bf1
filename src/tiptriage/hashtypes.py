"""The hash types files are reported and banked with, each declared once.

As python-threatexchange's `SignalType` does for a signal type, a `HashType` says everything the
rest of the code needs to know about one: its name as stored, how its text is written and checked,
whether two values match only when equal or within a Hamming distance (and which setting holds
that threshold), and where its values are looked up. Intake's value checks, bank imports, matching,
`tiptriage match` and the synthetic data iterate over `ALL` instead of keeping lists of their own.

PhotoDNA is not a type here: we cannot compute it, so bank entries that carry only PhotoDNA are
skipped (and a report's PhotoDNA value is refused as an unknown type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"[0-9a-f]+")  # ASCII only: str.isdigit would take other scripts' digits


@dataclass(frozen=True)
class HashType:
    name: str  # as stored (file_hashes.hash_type, bank_entries.hash_type) and written in our formats
    title: str  # as people write it
    bits: int
    exact: bool  # equal values match; otherwise values within `threshold_setting` bits of each other
    index: str  # "database": an indexed join on (type, value); "pdq": media/index.py's multi-index
    threshold_setting: str | None = None  # the setting (config.Settings) with the largest matching distance
    has_quality: bool = False  # sources may give a quality score with a value (PDQ: 0-100)
    aliases: tuple[str, ...] = ()  # further names sources use for it

    @property
    def hex_digits(self) -> int:
        return self.bits // 4

    def normalise(self, value: object) -> str:
        """The value as stored: lower-case hex of this type's length, surrounding white space
        dropped; ValueError otherwise."""
        digest = value.strip().lower() if isinstance(value, str) else None
        if digest is None or len(digest) != self.hex_digits or not _HEX.fullmatch(digest):
            raise ValueError(f"invalid {self.name} hash {quoted(value)}: expected {self.hex_digits} hex digits")
        return digest

    def distance(self, a: str, b: str) -> int:
        """Bits in which two normalised values differ (0: equal)."""
        return (int(a, 16) ^ int(b, 16)).bit_count()

    def max_distance(self, settings) -> int:
        """The largest distance at which two values of this type match, under `settings`."""
        return 0 if self.exact else getattr(settings, self.threshold_setting)

    def matches(self, a: str, b: str, max_distance: int) -> bool:
        """Whether two normalised values match: equal, or for a distance type within `max_distance`."""
        return a == b if self.exact else self.distance(a, b) <= max_distance


MD5 = HashType("md5", "MD5", 128, exact=True, index="database")
SHA1 = HashType("sha1", "SHA-1", 160, exact=True, index="database")
SHA256 = HashType("sha256", "SHA-256", 256, exact=True, index="database")
# Meta's perceptual hash: a re-encoded or resized copy lands a few bits away from the original.
PDQ = HashType("pdq", "PDQ", 256, exact=False, index="pdq", threshold_setting="pdq_max_distance",
               has_quality=True, aliases=("pdqhash",))

ALL = (MD5, SHA1, SHA256, PDQ)
NAMES = tuple(t.name for t in ALL)
EXACT = tuple(t for t in ALL if t.exact)


def fold(name: str) -> str:
    """A type's name as compared: case, surrounding space, dashes and underscores do not count."""
    return name.strip().lower().replace("-", "").replace("_", "")


_BY_FOLDED = {fold(n): t for t in ALL for n in (t.name, t.title, *t.aliases)}
# The usual spellings, found without folding (intake looks a type up for every reported hash).
_BY_SPELLING = {s: t for t in ALL for n in (t.name, t.title, *t.aliases) for s in (n, n.lower(), n.upper())}


def named(name: object) -> HashType | None:
    """The type a source means by `name` (md5, MD5, SHA-256, sha_1, PDQHash ...), or None."""
    if not isinstance(name, str):
        return None
    return _BY_SPELLING.get(name) or _BY_FOLDED.get(fold(name))


def get(name: object) -> HashType:
    """`named`, refusing a name that is none of ours (ValueError)."""
    found = named(name)
    if found is None:
        raise ValueError(f"unknown hash type {quoted(name)} (expected one of {', '.join(NAMES)})")
    return found


def of_length(hex_digits: int) -> tuple[HashType, ...]:
    """The types whose values have this many hex digits (64: SHA-256 and PDQ)."""
    return tuple(t for t in ALL if t.hex_digits == hex_digits)


def quoted(value: object, limit: int = 80) -> str:
    """A value quoted for an error message, cut short: reasons name the problem, not the content."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...(cut)"
