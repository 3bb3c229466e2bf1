"""Subjects: the subject registry as triage reads it (the `SubjectLinks` protocol of
`tiptriage.triage.subjectlinks`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.db import chunks
from tiptriage.subjects.membership import members_of, subject_of_persons
from tiptriage.subjects.models import SubjectReview
from tiptriage.subjects.retriage import mark_retriaged, pending_retriage


class StoredLinks:
    """The subject registry as triage reads it (the SubjectLinks protocol of triage/subjectlinks.py)."""

    def subjects_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, int]:
        return subject_of_persons(session, person_ids)

    def members_of(self, session: Session, subject_ids: Iterable[int]) -> dict[int, list[int]]:
        return members_of(session, subject_ids)

    def pending_retriage(self, session: Session) -> list[int]:
        return pending_retriage(session)

    def mark_retriaged(self, session: Session, report_ids: list[int]) -> int:
        return mark_retriaged(session, report_ids)

    def candidates_of(self, session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
        return candidates_of(session, person_ids)


def candidates_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[int]]:
    """Reported person → other subjects that open reviews hold as possibly the same person."""
    subject_of = subject_of_persons(session, person_ids)
    persons_of: dict[int, list[int]] = {}
    for person, subject in subject_of.items():
        persons_of.setdefault(subject, []).append(person)
    found: dict[int, set[int]] = {p: set() for p in subject_of}
    for _, kind, person_id, subject_id, candidate_id in _open_reviews_touching(session, subject_of):
        # The review asks about this person, or about its whole subject: the candidate may be it.
        asked = ({person_id} & found.keys()) | set(persons_of.get(subject_id, ()))
        for person in asked:
            found[person].add(candidate_id)
        if kind == "possible_same_subject":  # and read the other way round
            for person in persons_of.get(candidate_id, ()):
                if person not in asked:
                    found[person].add(subject_id)
    return {p: sorted(s - {subject_of[p]}) for p, s in found.items() if s - {subject_of[p]}}


def _open_reviews_touching(session: Session, subject_of: dict[int, int]) -> set[tuple]:
    """Open reviews of these persons or their subjects, (id, kind, person, subject, candidate), one
    indexed query per column: as one OR of the three, SQLite read every open review per batch. The
    status is tested here for the same reason (its index would be chosen over the others)."""
    columns = (SubjectReview.id, SubjectReview.kind, SubjectReview.reported_person_id, SubjectReview.subject_id,
               SubjectReview.candidate_subject_id, SubjectReview.status)
    subjects = sorted(set(subject_of.values()))
    found = set()
    for column, values in ((SubjectReview.reported_person_id, sorted(subject_of)),
                           (SubjectReview.subject_id, subjects), (SubjectReview.candidate_subject_id, subjects)):
        for part in chunks(values):
            found.update(row[:5] for row in session.execute(select(*columns).where(column.in_(part)))
                         if row.status == "open")
    return found
