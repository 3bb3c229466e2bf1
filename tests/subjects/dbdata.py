"""Reported persons written straight into intake's tables, one report each, for subject tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from tiptriage.db import utcnow
from tiptriage.intake.models import AddressRow, IdentifierRow, IpEventRow, Report, ReportedPersonRow


def add_report(
    session: Session,
    *,
    given: str | None = None,
    family: str | None = None,
    dob: date | None = None,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    uid: str | None = None,
    screen_name: str | None = None,
    address: tuple[str, str, str] | None = None,
    ips: tuple[tuple[str, datetime], ...] = (),
    role: str = "reported",
    platform: str = "kwebbel",
    incident_at: datetime = datetime(2023, 5, 1, tzinfo=UTC),
) -> tuple[int, int]:
    """(report id, reported person id) of a new report about one person."""
    report = Report(
        source="test",
        external_id=uuid.uuid4().hex,
        version=1,
        content_sha256=uuid.uuid4().hex * 2,
        format="test",
        ingested_at=utcnow(),
        ingested_by="test",
        annotations=[],
        reporter=platform,
        incident_at=incident_at,
    )
    session.add(report)
    session.flush()
    person = ReportedPersonRow(
        report_id=report.id,
        ref="p1",
        role=role,
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        prior_reports=[],
    )
    session.add(person)
    session.flush()
    ids = [("email", e, None) for e in emails] + [("phone", p, None) for p in phones]
    ids += [("esp_user_id", uid, platform)] if uid else []
    ids += [("screen_name", screen_name, platform)] if screen_name else []
    for kind, value, where in ids:
        session.add(IdentifierRow(person_id=person.id, kind=kind, value=value, platform=where))
    if address:
        session.add(
            AddressRow(
                person_id=person.id, street=address[0], postcode=address[1], city=address[2], country="NL"
            )
        )
    for ip, at in ips:
        session.add(IpEventRow(person_id=person.id, ip=ip, event="Login", at=at))
    session.flush()
    return report.id, person.id
