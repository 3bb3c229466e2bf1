"""Intake's tables: reports (immutable, versioned), their raw bytes, and the normalised parts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tiptriage.db import Base, Id, UTCDateTime


class Report(Base):
    """One stored report version. Never updated: a changed copy becomes the next version."""

    __tablename__ = "reports"
    __table_args__ = (
        # external_id leads: ingest looks reports up by external id (and filters the source).
        UniqueConstraint("external_id", "source", "version"),
        UniqueConstraint("external_id", "source", "content_sha256"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    incident_type: Mapped[str | None] = mapped_column(Text)
    incident_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reporter: Mapped[str | None] = mapped_column(Text)
    annotations: Mapped[list] = mapped_column(JSON, default=list)
    platform: Mapped[str | None] = mapped_column(Text)
    escalation: Mapped[str | None] = mapped_column(Text)  # the platform says a child may be at immediate risk
    batched: Mapped[str | None] = mapped_column(String(64))
    # [{kind, details: [[name, text]], third_party_hosted, ip_events: [{ip, event, at, port, possible_proxy}]}]
    incidents: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    reporter_contact: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [[name, text]]
    law_enforcement: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [[name, text]]
    # What intake noticed for the analyst: [[kind, field, received, read as]] (ParsedReport.flags).
    intake_flags: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ingested_by: Mapped[str] = mapped_column(String(200))

    raw_parts: Mapped[list[RawPart]] = relationship(back_populates="report", order_by="RawPart.seq")
    persons: Mapped[list[ReportedPersonRow]] = relationship(back_populates="report", order_by="ReportedPersonRow.id")
    files: Mapped[list[FileRow]] = relationship(back_populates="report", order_by="FileRow.id")


class RawPart(Base):
    """The bytes a report arrived in (compressed, see compression.RAW_COMPRESSION), one row per document
    (the report and its sibling file-details documents)."""

    __tablename__ = "report_raw"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)  # also the index for report_id

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)  # the file name it came in, for the record
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    compression: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="raw_parts")


class ReportedPersonRow(Base):
    __tablename__ = "reported_persons"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    ref: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    given_name: Mapped[str | None] = mapped_column(Text)
    family_name: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    age: Mapped[int | None] = mapped_column(Integer)
    estimated_country: Mapped[str | None] = mapped_column(String(64))
    prior_reports: Mapped[list] = mapped_column(JSON, default=list)
    details: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [[name, text]]

    report: Mapped[Report] = relationship(back_populates="persons")
    identifiers: Mapped[list[IdentifierRow]] = relationship(order_by="IdentifierRow.id")
    addresses: Mapped[list[AddressRow]] = relationship(order_by="AddressRow.id")
    ip_events: Mapped[list[IpEventRow]] = relationship(order_by="IpEventRow.id")


class IdentifierRow(Base):
    # No index on (kind, value), nor on addresses' postcode or IP events' ip: no query looks them up
    # (linkage finds people through subject_keys), and each was a random-key index whose pages every
    # ingest commit rewrote (migration 0005).
    __tablename__ = "identifiers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    verified: Mapped[bool | None] = mapped_column(Boolean)
    platform: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AddressRow(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    street: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(64))


class IpEventRow(Base):
    __tablename__ = "ip_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(Id, ForeignKey("reported_persons.id"), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    port: Mapped[int | None] = mapped_column(Integer)
    possible_proxy: Mapped[bool | None] = mapped_column(Boolean)


class FileRow(Base):
    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    report_id: Mapped[int] = mapped_column(Id, ForeignKey("reports.id"), index=True)
    ref: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(Text)
    person_ref: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(16))  # None: the source does not say (NCMEC never does)
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    viewed_by_esp: Mapped[bool | None] = mapped_column(Boolean)
    publicly_available: Mapped[bool | None] = mapped_column(Boolean)
    classification: Mapped[str | None] = mapped_column(String(2))
    annotations: Mapped[list] = mapped_column(JSON, default=list)
    relevance: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # [[name, text]]

    report: Mapped[Report] = relationship(back_populates="files")
    hashes: Mapped[list[FileHashRow]] = relationship(order_by="FileHashRow.id")


def value_prefix(value: str) -> int:
    """A hex digest's first 32 bits as a signed integer (PostgreSQL's `('x' || ...)::bit(32)::int`)."""
    return int.from_bytes(bytes.fromhex(value[:8]), "big", signed=True)


def _value_prefix_default(context) -> int:
    return value_prefix(context.get_current_parameters()["value"])


class FileHashRow(Base):
    """One hash of a stored file. Files are looked up by hash through (hash_type, value_prefix),
    then `value` is compared: digests are random, so every ingest commit rewrites pages all over
    an index on them, and an index on 32 bits instead of the hex text is a quarter of the size
    (migration 0006)."""

    __tablename__ = "file_hashes"
    __table_args__ = (Index("ix_file_hashes_type_prefix", "hash_type", "value_prefix"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    file_id: Mapped[int] = mapped_column(Id, ForeignKey("files.id"), index=True)
    hash_type: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))
    value_prefix: Mapped[int] = mapped_column(Integer, default=_value_prefix_default)


class QuarantineEntry(Base):
    """A refused input: why, where, and the hash of its bytes (the bytes themselves are not kept)."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)
    record: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
