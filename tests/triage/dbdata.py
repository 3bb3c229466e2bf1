"""Small synthetic reports for database tests: built as domain objects, written as CyberTipline XML,
ingested and matched against a tiny CSV bank. Hashes are derived from labels, never from media."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.intake.domain import (
    Address,
    FileHash,
    Identifier,
    IpEvent,
    ParsedReport,
    ReportedFile,
    ReportedPerson,
)
from tiptriage.intake.formats import cybertip
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.media import service as media

KNOWN = [hashlib.md5(f"known-{k}".encode()).hexdigest() for k in range(10)]


def md5(label: str) -> str:
    return hashlib.md5(label.encode()).hexdigest()


def bank(session: Session, folder: Path, hashes: list[str] = KNOWN, name: str = "known") -> None:
    path = folder / f"{name}.csv"
    path.write_text("hash_type,hash,category,series\n" + "".join(f"md5,{h},child_abuse,S{i % 3}\n"
                                                                 for i, h in enumerate(hashes)))
    media.import_bank(session, path, name=name, fmt="csv", actor=Actor("test"))


def known(n: int = 0, action: str = "download", **kw) -> ReportedFile:
    return ReportedFile(ref=f"k{n}", person_ref="p1", action=action, hashes=(FileHash("md5", KNOWN[n]),), **kw)


def fresh(label: str, classification: str | None = "A2", action: str = "download") -> ReportedFile:
    return ReportedFile(ref=f"n{label}", person_ref="p1", action=action, classification=classification,
                        hashes=(FileHash("md5", md5(label)),))


def person(given="Jan", family="de Vries", email="jan.devries@example.nl", dob=date(1980, 5, 4),
           postcode="6211 AB", country="NL", age=None) -> ReportedPerson:
    ids = (Identifier("email", email, True, None),) if email else ()
    addresses = (Address("Markt 1", postcode, "Maastricht", country),) if postcode else ()
    return ReportedPerson(ref="p1", given_name=given, family_name=family, date_of_birth=dob, age=age,
                          identifiers=ids, addresses=addresses,
                          ip_events=(IpEvent("192.0.2.7", "Login", datetime(2023, 3, 1, 9, tzinfo=UTC)),))


def report(external_id: str, *files: ReportedFile, who: ReportedPerson | None = None, extra=(),
           incident=datetime(2023, 3, 1, 10, tzinfo=UTC), annotations=()) -> ParsedReport:
    return ParsedReport(source="NCMEC", external_id=external_id, format="cybertip-xml",
                        incident_type="Child Pornography (possession, manufacture, and distribution)",
                        incident_at=incident, reported_at=incident.replace(hour=20), reporter="Platform A",
                        annotations=tuple(annotations), persons=(who or person(), *extra),
                        files=tuple(files) or (known(0),))


def ingest(session: Session, folder: Path, *reports: ParsedReport) -> list[int]:
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        data, _ = cybertip.write(r, inline_files=True)
        (folder / f"{r.external_id}.xml").write_bytes(data)
    stored = pipeline.ingest(session, [folder / f"{r.external_id}.xml" for r in reports], actor=Actor("test"))
    media.match_reports(session, stored.report_ids, actor=Actor("test"))
    return ids_of(session, *[r.external_id for r in reports])


def ids_of(session: Session, *external_ids: str) -> list[int]:
    rows = dict(session.execute(select(Report.external_id, Report.id).where(Report.external_id.in_(external_ids))
                                .order_by(Report.version)).all())
    return [rows[e] for e in external_ids]


def reported_person(session: Session, report_id: int) -> int:
    return session.execute(select(ReportedPersonRow.id).where(ReportedPersonRow.report_id == report_id,
                                                              ReportedPersonRow.role == "reported")
                           .order_by(ReportedPersonRow.id).limit(1)).scalar_one()


def renamed(r: ParsedReport, **kw) -> ParsedReport:
    return replace(r, **kw)
