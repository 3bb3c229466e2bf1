"""Identification: the answer to NEEDS_IDENTIFICATION, and linkage looking again with it.

A report that carries only an IP address or an account cannot be triaged further until the unit
knows who is behind it (a subscriber request to the provider, art. 126na Sv, then a register
check). `identify` records who the analyst established (`models.Identification`, append-only,
newest counts) and links the reported person again as if the report had named them: the person's
stored record and keys are renewed, candidates are scored with the model's weights, and

- when the person now links to another subject, their subject is fused into it (operation
  "identify", audited, undone by `split`); across a subject an analyst shaped, a review is opened
  instead, as the fast path does;
- when the evidence is only enough for a review, the reviews are opened;
- either way the subjects' reports are queued for re-triage (`pending_retriage`).

So a warned person reported again from a bare IP address is recognised once identified, and the
re-report is escalated like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import N_, refusal
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.subjects import features
from tiptriage.subjects import actions, errors, fastpath, linking, membership, model_store, retriage
from tiptriage.subjects.models import IDENTIFICATION_SOURCES, Identification, SubjectKey, SubjectRecord

NAME_LIMIT = 200


@dataclass(frozen=True)
class Identity:
    """Who the unit established stands behind a reported person (see models.Identification)."""

    given_name: str
    family_name: str
    date_of_birth: date | None = None
    street: str | None = None  # street and house number
    postcode: str | None = None
    city: str | None = None
    country: str = "NL"


@dataclass(frozen=True)
class Identified:
    identification_id: int
    person_id: int
    subject_id: int  # where the person is now
    decision: str  # linked (to another subject), same (stays), review, new (no one else matches)
    fused: tuple[int, ...]  # subjects retired into `subject_id` (their persons moved there)
    review_ids: tuple[int, ...]
    retriage: tuple[int, ...]  # reports queued for re-triage


def identify(session: Session, report_id: int, identity: Identity, *, source: str, reference: str, note: str,
             actor: str, person_ref: str | None = None) -> Identified:
    """Record the identification of the report's reported person and link them again. Flushed, not
    committed (the caller commits, then triages the queued reports)."""
    _check(identity, source, reference, note)
    person = _reported_person(session, report_id, person_ref)
    if membership.current_subject(session, person.id) is None:  # stored but never linked: link first
        linking.resolve_reports(session, [report_id], actor=actor)
    row = Identification(report_id=report_id, person_id=person.id, given_name=identity.given_name.strip(),
                         family_name=identity.family_name.strip(), date_of_birth=identity.date_of_birth,
                         street=_clean(identity.street), postcode=_clean(identity.postcode),
                         city=_clean(identity.city), country=identity.country.upper(), source=source,
                         reference=reference.strip(), note=note.strip(), actor=actor, at=utcnow())
    session.add(row)
    session.flush()
    result = _link_again(session, person, row, actor)
    audit.record(session, actor=actor, action="subjects.identification", entity="report", entity_ids=[report_id],
                 reason=note, details={"identification_id": row.id, "person_id": person.id, "source": source,
                                       "reference": row.reference, "decision": result.decision,
                                       "subject_id": result.subject_id, "fused": list(result.fused),
                                       "reviews": list(result.review_ids)})
    return result


def newest(session: Session, person_ids: list[int]) -> dict[int, Identification]:
    """The newest identification of each of these reported persons that has one."""
    rows = session.execute(select(Identification).where(Identification.person_id.in_(person_ids))
                           .order_by(Identification.id)).scalars()
    return {row.person_id: row for row in rows}


def _check(identity: Identity, source: str, reference: str, note: str) -> None:
    error = errors.SubjectError
    if source not in IDENTIFICATION_SOURCES:
        raise refusal(error, "an identification comes from one of {sources}, not {source}",
                      sources=", ".join(IDENTIFICATION_SOURCES), source=source)
    for value, empty in ((identity.given_name, N_("an identification names the person: the given name is empty")),
                         (identity.family_name, N_("an identification names the person: the family name is empty"))):
        if not value or not value.strip():
            raise refusal(error, empty)
        if len(value) > NAME_LIMIT:
            raise refusal(error, "a name is at most {limit} characters", limit=NAME_LIMIT)
    born = identity.date_of_birth
    if born is not None and not date(1900, 1, 1) <= born <= utcnow().date():
        raise refusal(error, "a date of birth between 1900-01-01 and today, not {date}", date=born.isoformat())
    if len(identity.country) != 2 or not identity.country.isalpha():
        raise refusal(error, "a country is a two-letter code (NL, BE, ...), not {country}",
                      country=repr(identity.country))
    if not reference.strip():
        raise refusal(error, "give the reference of the request or register query (--reference)")
    if not note.strip():
        raise refusal(error, "say how the person was identified (a note)")


def _clean(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _reported_person(session: Session, report_id: int, ref: str | None) -> ReportedPersonRow:
    if session.get(Report, report_id) is None:
        raise refusal(LookupError, "no report with id {id}", id=report_id)
    persons = list(session.execute(select(ReportedPersonRow).where(
        ReportedPersonRow.report_id == report_id, ReportedPersonRow.role == membership.SUBJECT_ROLE)
        .order_by(ReportedPersonRow.id)).scalars())
    if ref is not None:
        persons = [p for p in persons if p.ref == ref]
    refs = ", ".join(p.ref for p in persons)
    if not persons:
        raise (refusal(LookupError, "report {id} has no reported person {ref}", id=report_id, ref=repr(ref)) if ref
               else refusal(LookupError, "report {id} has no reported person", id=report_id))
    if len(persons) > 1:
        raise refusal(errors.SubjectError, "report {id} names {n} reported persons ({refs}): say which with --person",
                      id=report_id, n=len(persons), refs=refs)
    return persons[0]


def _link_again(session: Session, person: ReportedPersonRow, identity: Identification, actor: str) -> Identified:
    """Renew the person's record and keys, then decide as the fast path does, from where they are."""
    report = session.get(Report, person.report_id)
    normalised = features.normalised(person, report, identity)
    rec = features.record(person.id, normalised)
    ips = features.public_ips(normalised)
    _renew_index(session, person.id, rec, ips)
    model = model_store.active_model(session)
    op = membership.record_operation(session, "identify", actor, identity.note,
                             {"identification": identity.id, "person": person.id, "model_version": model.version})
    current = membership.current_subject(session, person.id)
    decision = fastpath.decide(session, model, rec, ips)
    choice = decision.choice
    ties = [(choice.subject_id, choice.best[0]), *choice.joins] if choice.decision == "linked" else []
    fused: list[int] = []
    for sid, weight in ties:
        if sid == current or sid in fused:
            continue
        if linking.analyst_decided(session, [current, sid]):  # an analyst kept them apart: ask
            choice.reviews.append(("possible_same_subject", sid, weight))
        else:
            fused.append(sid)
    affected = membership.affected_reports(session, [current, *fused])
    reason = f"identification {identity.id} of reported person {person.id} ({identity.source} {identity.reference})"
    retired = []
    for sid in fused:
        # The older subject keeps its id, so what hangs on it (a warning's history) reads on.
        keep, other = min(sid, current), max(sid, current)
        actions.fuse(session, keep, other, kind="identify", actor=actor, reason=reason)
        current = keep
        retired.append(other)
    choice.reviews = [r for r in choice.reviews if r[1] not in fused and r[1] != current]
    _, reviews = linking.record_link(session, model, op, person.id, current, decision, utcnow())
    queued = retriage.queue_retriage(session, affected, op.id)
    outcome = "linked" if fused else "review" if reviews else "same" if choice.subject_id == current else "new"
    return Identified(identity.id, person.id, current, outcome, tuple(retired), reviews, tuple(queued))


def _renew_index(session: Session, person_id: int, rec: dict, ips: set[str]) -> None:
    """The person's stored record becomes the identified one; keys only grow (the report's own
    keys stay true: the report did carry them). The person is linked, so their record is stored."""
    old = session.get(SubjectRecord, person_id).features
    session.execute(update(SubjectRecord).where(SubjectRecord.reported_person_id == person_id).values(features=rec))
    have = set(session.execute(select(SubjectKey.key).where(SubjectKey.reported_person_id == person_id)).scalars())
    keys = features.index_keys(rec, ips) - have
    if keys:
        session.add_all(SubjectKey(key=k, reported_person_id=person_id) for k in sorted(keys))
    linking.count_terms(session, rec, before=old)
    session.flush()
