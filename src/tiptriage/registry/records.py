"""What triage reads of the registry: a subject's warnings and investigations as plain values
(the registry owns them; triage's facts take them as they are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class WarningInput:
    warning_id: int
    state: str  # proposed, approved, delivered, revoked (expiry is computed from expires_on)
    delivered_on: date | None
    expires_on: date | None
    unit: str | None
    covers_report: bool  # the warning was given for this very report


@dataclass(frozen=True, slots=True)
class InvestigationInput:
    investigation_id: int
    unit: str
    open: bool
    covers_report: bool
