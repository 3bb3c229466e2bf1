"""The domain objects every intake format produces, and that the synthetic generator writes.

Plain frozen dataclasses: formats parse into them, the store writes them, and writers serialise
them again, so `parse(write(report)) == report` is the round-trip property the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tiptriage.i18n import N_

# What a person did with a file, where the source says so (NCMEC's schema never does: whether a
# file was distributed is then judged from the rest of the report, see triage/distribution.py).
# Distribution is anything but download/store.
FILE_ACTIONS = (N_("upload"), N_("send"), N_("share"), N_("public_post"), N_("download"), N_("store"))
DISTRIBUTING_ACTIONS = frozenset({"upload", "send", "share", "public_post"})
# How the incident happened (NCMEC's internetDetails subtypes), in the schema's order.
INCIDENT_KINDS = (N_("web_page"), N_("email"), N_("newsgroup"), N_("chat_im"), N_("online_gaming"), N_("cell_phone"),
                  N_("non_internet"), N_("peer2peer"))
# Industry classification used by ESPs (NCMEC's scheme): A = prepubescent, B = pubescent;
# 1 = sex act, 2 = lascivious exhibition.
CLASSIFICATIONS = ("A1", "A2", "B1", "B2")
IDENTIFIER_KINDS = (N_("email"), N_("phone"), N_("screen_name"), N_("esp_user_id"), N_("device_id"))
IP_EVENTS = ("Login", "Registration", "Purchase", "Upload", "Other", "Unknown")
# "associated": another account the platform ties to a reported person, recipient or victim
# (NCMEC's associatedAccount: billing, linked, parent/guardian ...), never linked as that person.
PERSON_ROLES = (N_("reported"), N_("recipient"), N_("victim"), N_("associated"))
# What a report, person or file carries that analysts read but no rule or link uses: (name, text)
# pairs in document order, e.g. ("displayName", "..."), ("schoolName", "..."). Kept in the store and
# shown by `reports show`; everything else stays in the raw copy only.
Details = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: str  # one of IDENTIFIER_KINDS
    value: str  # as reported; normalisation belongs to subjects/identifiers.py
    verified: bool | None = None
    # User ids and screen names are only unique within a platform; for a device id, its type (IMEI ...).
    platform: str | None = None
    verified_at: datetime | None = None  # when the platform verified the e-mail address or phone number


@dataclass(frozen=True, slots=True)
class IpEvent:
    ip: str
    event: str  # one of IP_EVENTS
    at: datetime | None = None
    port: int | None = None
    possible_proxy: bool | None = None  # the platform believes the address is a proxy: it places no one


@dataclass(frozen=True, slots=True)
class Address:
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2


@dataclass(frozen=True, slots=True)
class ReportedPerson:
    ref: str  # the person's reference inside the report, used by files and recipients
    role: str = "reported"  # one of PERSON_ROLES
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    age: int | None = None  # as reported, at the incident
    identifiers: tuple[Identifier, ...] = ()
    addresses: tuple[Address, ...] = ()
    ip_events: tuple[IpEvent, ...] = ()
    estimated_country: str | None = None  # a country code; never a pseudo-code such as A1 (anonymous proxy)
    prior_reports: tuple[str, ...] = ()  # earlier CyberTipline report ids the ESP names
    details: Details = ()


@dataclass(frozen=True, slots=True)
class FileHash:
    hash_type: str  # one of hashtypes.NAMES
    value: str  # lower-case hex


@dataclass(frozen=True, slots=True)
class ReportedFile:
    ref: str
    file_name: str | None = None
    person_ref: str | None = None  # who held or moved the file
    action: str | None = None  # one of FILE_ACTIONS; None when the source does not say
    recipients: tuple[str, ...] = ()  # person refs the file went to, where the source says so
    uploaded_at: datetime | None = None
    viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    classification: str | None = None  # one of CLASSIFICATIONS, by the platform
    annotations: tuple[str, ...] = ()
    hashes: tuple[FileHash, ...] = ()
    relevance: str | None = None  # NCMEC fileRelevance: "Reported" (the default) or "Supplemental Reported"
    details: Details = ()


@dataclass(frozen=True, slots=True)
class Incident:
    """How and where it happened: one of NCMEC's internetDetails (a web page, a chat, peer-to-peer ...)."""

    kind: str  # one of INCIDENT_KINDS
    details: Details = ()  # url, emailAddress, chatClient, chatRoomName, client, fileNames ... as written
    third_party_hosted: bool | None = None  # web page: hosted by another company, the reporter knows no more
    ip_events: tuple[IpEvent, ...] = ()  # peer-to-peer: addresses the reported person used


@dataclass(frozen=True, slots=True)
class ParsedReport:
    """One report as a format understood it. `source` + `external_id` identify it."""

    source: str  # who sent it: NCMEC, a hotline, a foreign police force, an own investigation
    external_id: str
    format: str  # the intake format module that parsed it
    incident_type: str | None = None
    incident_at: datetime | None = None
    reported_at: datetime | None = None
    reporter: str | None = None  # the platform (ESP) or organisation that reported
    annotations: tuple[str, ...] = ()
    persons: tuple[ReportedPerson, ...] = ()
    files: tuple[ReportedFile, ...] = ()
    platform: str | None = None  # the application where it happened (NCMEC incidentSummary/platform)
    # The platform says a child may be at immediate risk, and why (NCMEC escalateToHighPriority).
    escalation: str | None = None
    batched: str | None = None  # the reason a batch of similar reports was sent as one (VIRAL_POTENTIAL_MEME)
    incidents: tuple[Incident, ...] = ()
    reporter_contact: Details = ()  # who at the platform to contact (NCMEC reportingPerson, contactPerson)
    law_enforcement: Details = ()  # police the platform already told, or that asked (agency, case number)
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    # What intake noticed for the analyst, as (kind, field, received, read as): a source or report
    # id with look-alike letters of another script, read as the Latin ones for de-duplication.
    flags: tuple[tuple[str, str, str, str], ...] = field(default=(), compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class RawDocument:
    """The bytes a report came in, kept as evidence next to what was parsed from them."""

    data: bytes
    path: str  # where it was read from (a name for error messages, never content)
    index: int = 0  # which record inside a multi-record file (CSV rows grouped, JSON arrays)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed report with the raw bytes it came from."""

    report: ParsedReport
    raw: bytes
