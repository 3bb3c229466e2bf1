"""Checks and conversions of single values that every format shares.

Each raises ValueError with a short reason; the format adds file, record and field to it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from tiptriage.intake.domain import (
    CLASSIFICATIONS, FILE_ACTIONS, HASH_HEX_LENGTHS, IDENTIFIER_KINDS, IP_EVENTS, PERSON_ROLES,
)

_HEX = re.compile(r"[0-9a-f]+")
# Reports concern events after the web existed and before now (plus clock skew).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
MAX_TEXT = 4000


def text(value: str | None, *, limit: int = MAX_TEXT) -> str | None:
    """Trimmed text, None when empty; refuses control characters and absurd lengths."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("contains control characters")
    return value


def timestamp(value: str | None, *, now: datetime | None = None) -> datetime | None:
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
    parsed = parsed.astimezone(UTC)
    now = now or datetime.now(UTC)
    if parsed < EARLIEST or (parsed - now).days > 1:
        raise ValueError(f"date-time out of range: {value!r}")
    return parsed


def birth_date(value: str | None) -> date | None:
    value = text(value, limit=32)
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if parsed.year < 1900 or parsed > date.today():
        raise ValueError(f"impossible date of birth: {value!r}")
    return parsed


def age(value: str | int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a whole number: {value!r}") from None
    if not 0 <= parsed <= 120:
        raise ValueError(f"impossible age: {parsed}")
    return parsed


def boolean(value: str | bool | None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("", "unknown"):
        return None
    if lowered in ("true", "1", "yes", "y"):
        return True
    if lowered in ("false", "0", "no", "n"):
        return False
    raise ValueError(f"not true/false: {value!r}")


def hash_value(hash_type: str, value: str) -> tuple[str, str]:
    """(type, value) normalised: type lower-case without dashes, value lower-case hex of the right length."""
    kind = hash_type.strip().lower().replace("-", "").replace("_", "")
    if kind not in HASH_HEX_LENGTHS:
        raise ValueError(f"unknown hash type {hash_type!r} (expected one of {', '.join(HASH_HEX_LENGTHS)})")
    digest = value.strip().lower()
    if len(digest) != HASH_HEX_LENGTHS[kind] or not _HEX.fullmatch(digest):
        raise ValueError(f"invalid {kind} hash {value[:80]!r}: expected {HASH_HEX_LENGTHS[kind]} hex digits")
    return kind, digest


def one_of(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    value = text(value, limit=64)
    if value is None:
        return None
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise ValueError(f"unknown {what} {value!r} (expected one of {', '.join(allowed)})")


def classification(value: str | None) -> str | None:
    return one_of(value, CLASSIFICATIONS, "industry classification")


def action(value: str | None) -> str | None:
    if value is not None:
        value = value.strip().replace(" ", "_").replace("-", "_")
    return one_of(value, FILE_ACTIONS, "file action")


def ip_event(value: str | None) -> str:
    return one_of(value, IP_EVENTS, "IP capture event") or "Other"


def identifier_kind(value: str) -> str:
    return one_of(value, IDENTIFIER_KINDS, "identifier kind")  # type: ignore[return-value]


def role(value: str | None) -> str:
    return one_of(value, PERSON_ROLES, "person role") or "reported"


def port(value: str | int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a port number: {value!r}") from None
    if not 0 <= parsed <= 65535:
        raise ValueError(f"port out of range: {parsed}")
    return parsed


def ip_address(value: str | None) -> str:
    import ipaddress

    value = text(value, limit=64)
    if value is None:
        raise ValueError("missing IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"not an IP address: {value!r}") from None
