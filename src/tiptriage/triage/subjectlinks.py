"""The seam between triage and subjects: who a reported person is, and who else is that subject.

Triage needs two questions answered, in bulk: the current subject of each reported person, and the
current reported persons of each subject. `SubjectLinks` is that interface; `triage.service` takes
one, so tests can give their own and the subjects package can change behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tiptriage.subjects.models import SubjectReview
from tiptriage.subjects.service import StoredLinks


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


class _NoQueue:
    def pending_retriage(self, session: Session) -> list[int]:
        return []

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        return {}

    def mark_retriaged(self, session: Session, report_ids: list[int]) -> int:
        return 0


class NoLinks(_NoQueue):
    """Every reported person alone: no history across reports (before linkage has run)."""

    def subjects_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, int]:
        return {}

    def members_of(self, session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
        return {}


class FixedLinks(_NoQueue):
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


class RegistryLinks(StoredLinks):
    """The subject registry as linkage keeps it, with its open reviews as possible matches."""

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        person_ids = sorted(set(person_ids))
        if not person_ids:
            return {}
        found: dict[int, set[int]] = {}
        subject_of = self.subjects_of(session, person_ids)
        open_reviews = (SubjectReview.status == "open")
        for person, candidate in session.execute(select(SubjectReview.reported_person_id,
                                                        SubjectReview.candidate_subject_id)
                                                 .where(open_reviews, SubjectReview.reported_person_id.in_(person_ids))):
            found.setdefault(person, set()).add(candidate)
        by_subject: dict[int, list[int]] = {}
        for person, subject in subject_of.items():
            by_subject.setdefault(subject, []).append(person)
        pairs = session.execute(select(SubjectReview.subject_id, SubjectReview.candidate_subject_id).where(
            open_reviews, SubjectReview.reported_person_id.is_(None),
            or_(SubjectReview.subject_id.in_(by_subject), SubjectReview.candidate_subject_id.in_(by_subject))))
        for a, b in pairs:
            for subject, other in ((a, b), (b, a)):
                for person in by_subject.get(subject, ()):
                    found.setdefault(person, set()).add(other)
        return {p: sorted(c - {subject_of.get(p)}) for p, c in found.items() if c - {subject_of.get(p)}}


def default_links() -> SubjectLinks:
    """The subject registry, as linkage keeps it."""
    return RegistryLinks()
