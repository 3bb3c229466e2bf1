"""The seam between triage and subjects: who a reported person is, and who else is that subject.

Triage needs two questions answered, in bulk: the current subject of each reported person, and the
current reported persons of each subject. `SubjectLinks` is that interface; `triage.service` takes
one, so tests can give their own and the subjects package can change behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.orm import Session

from tiptriage.subjects.storedlinks import StoredLinks


class SubjectLinks(Protocol):
    def subjects_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, int]:
        """Reported person id → its current subject id (persons not linked yet are left out)."""

    def members_of(self, session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
        """Subject id → the reported person ids that belong to it now."""

    def pending_retriage(self, session: Session) -> list[int]:
        """Reports whose subject changed (merge, split, relink) since they were last triaged."""

    def mark_retriaged(self, session: Session, report_ids: list[int]) -> int:
        """Triage took these reports up again."""

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        """Reported person → other subjects linkage holds as possibly the same (open reviews)."""


class FixedLinks:
    """Links given as a mapping person → subject (and possible matches): for tests and evaluations."""

    def __init__(self, subject_of: dict[int, int], candidates: dict[int, list[int]] | None = None):
        self.subject_of = dict(subject_of)
        self.candidates = dict(candidates or {})
        self.members: dict[int, list[int]] = {}
        for person, subject in sorted(self.subject_of.items()):
            self.members.setdefault(subject, []).append(person)

    def subjects_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, int]:
        return {p: self.subject_of[p] for p in person_ids if p in self.subject_of}

    def members_of(self, session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
        return {s: list(self.members.get(s, ())) for s in subject_ids}

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        return {p: list(self.candidates[p]) for p in person_ids if p in self.candidates}

    def pending_retriage(self, session: Session) -> list[int]:
        return []  # fixed links never change, so nothing waits for re-triage because of them

    def mark_retriaged(self, session: Session, report_ids: list[int]) -> int:
        return 0


def default_links() -> SubjectLinks:
    """The subject registry, as linkage keeps it (with open reviews as possible matches)."""
    return StoredLinks()
