"""Checks and conversions of single values that every format shares.

Each raises ValueError with a short reason; the format adds file, record and field to it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache

from tiptriage import hashtypes
from tiptriage.hashtypes import quoted as shown  # one way to quote a refused value, hashes included
from tiptriage.intake.domain import CLASSIFICATIONS, FILE_ACTIONS, IDENTIFIER_KINDS, IP_EVENTS, PERSON_ROLES

_WHOLE = re.compile(r"[+-]?[0-9]+")
_DATE_ZONE = re.compile(r"(?<=^\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What XML 1.0 cannot carry and UTF-8 cannot encode (lone surrogates, e.g. from a JSON "\ud800"):
# such a value would crash the store or the writers, so it is refused like a control character.
_UNSTORABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Reports concern events after the web existed and before now (plus clock skew).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_TEXT = 4000
# Lengths the store's columns hold (intake/models.py); a longer value is refused here with its
# field named, rather than by one database and silently kept by another.
MAX_ID = 200  # source, external report id, file reference
MAX_REF = 64  # a person's reference inside a report
MAX_CODE = 64  # postcode, country, estimated country
MAX_FLAG = 200  # one annotation


def text(value: str | None, *, limit: int = MAX_TEXT) -> str | None:
    """Trimmed text, None when empty; refuses control characters and absurd lengths."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters")
    # Printable ASCII (most values) holds none of the refused characters: the search is skipped.
    if not (value.isascii() and value.isprintable()) and _REFUSED.search(value):  # both kinds; then which
        if _CONTROL.search(value):
            raise ValueError("contains control characters")
        raise ValueError("contains characters that are not valid Unicode text (surrogates, U+FFFE, U+FFFF)")
    return value


def text_within(limit: int) -> Callable[[str | None], str | None]:
    """`text` with another length limit, as a one-argument converter (cheaper to call than a partial)."""
    def converter(value: str | None) -> str | None:
        return text(value, limit=limit)
    return converter


def timestamp(value: str | None) -> datetime | None:
    """ISO 8601 date-time; naive values are taken as UTC. Impossible or future dates are refused."""
    value = text(value, limit=64)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00, before the first representable instant
        raise ValueError(f"date-time out of range: {value!r}") from None
    # Less than two days ahead of now: clock skew and time zones.
    if parsed < EARLIEST or not _CLOCK.is_before(parsed - _TWO_DAYS):
        raise ValueError(f"date-time out of range: {value!r}")
    return parsed


class _Now:
    """The clock (or calendar) as last read. It only moves forward, so what lies before the last
    reading lies before now without asking again: asking cost half of reading a timestamp."""

    def __init__(self, read):
        self._read = read
        self._last = None

    def is_before(self, moment) -> bool:
        if self._last is not None and moment < self._last:
            return True
        self._last = self._read()
        return moment < self._last


_CLOCK = _Now(lambda: datetime.now(UTC))
_CALENDAR = _Now(date.today)
_TWO_DAYS, _ONE_DAY = timedelta(days=2), timedelta(days=1)


def birth_date(value: str | None) -> date | None:
    value = text(value, limit=32)
    if value is None:
        return None
    # xs:date may carry a time zone ("1990-05-01Z", "1990-05-01+02:00"): a birthday has none.
    value = _DATE_ZONE.sub("", value) if len(value) > 10 else value
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if parsed.year < 1900 or not _CALENDAR.is_before(parsed - _ONE_DAY):  # after today
        raise ValueError(f"impossible date of birth: {value!r}")
    return parsed


def _whole(value: str | int | None, what: str) -> int | None:
    """A whole number from an int or from ASCII digits; None when empty.

    Refuses what int() would quietly bend: True (1), 5.5 (5), "1_0" (10), non-ASCII digits.
    """
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if not digits:
            return None
        if len(digits) <= 20 and _WHOLE.fullmatch(digits):
            return int(digits)
    raise ValueError(f"not {what}: {shown(value)}")


def age(value: str | int | None) -> int | None:
    parsed = _whole(value, "a whole number")
    if parsed is None:
        return None
    if not 0 <= parsed <= 120:
        raise ValueError(f"impossible age: {parsed}")
    return parsed


def boolean(value: str | bool | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not true/false: {shown(value)}")
    exact = _BOOLEANS.get(value)  # as written by nearly every sender; spares strip() and lower()
    if exact is not None:
        return exact
    lowered = value.strip().lower()
    if lowered in ("", "unknown"):
        return None
    if lowered in ("true", "1", "yes", "y"):
        return True
    if lowered in ("false", "0", "no", "n"):
        return False
    raise ValueError(f"not true/false: {shown(value)}")


_BOOLEANS = {"true": True, "false": False}


def hash_value(hash_type: str, value: str) -> tuple[str, str]:
    """(type, value) as stored: the type by any of its spellings, the value as `hashtypes` checks it."""
    kind = hashtypes.get(hash_type)
    return kind.name, kind.normalise(value)


def one_of(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    value = text(value, limit=64)
    if value is None:
        return None
    option = _folded(allowed).get(value.lower())
    if option is None:
        raise ValueError(f"unknown {what} {value!r} (expected one of {', '.join(allowed)})")
    return option


@cache
def _folded(allowed: tuple[str, ...]) -> dict[str, str]:
    """Lower-cased option → option, the first one winning (as a scan in order would)."""
    folded: dict[str, str] = {}
    for option in allowed:
        folded.setdefault(option.lower(), option)
    return folded


def classification(value: str | None) -> str | None:
    return one_of(value, CLASSIFICATIONS, "industry classification")


def action(value: str | None) -> str | None:
    if value is not None:
        value = value.strip().replace(" ", "_").replace("-", "_")
    return one_of(value, FILE_ACTIONS, "file action")


def ip_event(value: str | None) -> str:
    return one_of(value, IP_EVENTS, "IP capture event") or "Unknown"  # the schema leaves it optional


def identifier_kind(value: str) -> str:
    return one_of(value, IDENTIFIER_KINDS, "identifier kind")  # type: ignore[return-value]


def role(value: str | None) -> str:
    return one_of(value, PERSON_ROLES, "person role") or "reported"


def port(value: str | int | None) -> int | None:
    parsed = _whole(value, "a port number")
    if parsed is None:
        return None
    if not 0 <= parsed <= 65535:
        raise ValueError(f"port out of range: {parsed}")
    return parsed


def ip_address(value: str | None) -> str:
    """Canonical text form of an IPv4/IPv6 address (through the C library: this runs per event)."""
    value = text(value, limit=64)
    if value is None:
        raise ValueError("missing IP address")
    family = socket.AF_INET6 if ":" in value else socket.AF_INET
    try:
        return socket.inet_ntop(family, socket.inet_pton(family, value))
    except (OSError, ValueError):
        raise ValueError(f"not an IP address: {value!r}") from None
