"""Subjects: what an analyst action refuses, and the justification every such action needs."""

from __future__ import annotations

from tiptriage.i18n import refusal


class SubjectError(ValueError):
    """An analyst action that cannot be carried out as asked (unknown id, empty reason, ...)."""


class SubjectNotFound(SubjectError, LookupError):
    """The subject, review or run named does not exist."""


def require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise refusal(SubjectError, "a justification is required")
    return reason.strip()
