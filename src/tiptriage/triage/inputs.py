"""From the database to the pure inputs of `derive_facts`, in bulk (a few queries per batch).

One batch of report ids → per report a `ReportInput`, a `SubjectHistory`, and what unit
assignment needs (this report's and the subject's Dutch postcodes). The subject comes through
the `SubjectLinks` seam; warnings and investigations through the registry's service.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiptriage.db import chunks
from tiptriage.intake.models import AddressRow, FileRow, IdentifierRow, IpEventRow, Report, ReportedPersonRow
from tiptriage.media.models import BankEntry, FileMatch, FileMatchState
from tiptriage.registry import service as registry
from tiptriage.registry.records import InvestigationInput, WarningInput
from tiptriage.triage.distribution import DISTRIBUTED, Evidence, Services
from tiptriage.triage.facts import (
    AgeEvidence,
    FileInput,
    PersonInput,
    ReportInput,
    SubjectHistory,
    distribution_of,
)
from tiptriage.subjects import identity
from tiptriage.subjects.models import has_address
from tiptriage.triage.models import BIRTH_DATE_REGISTERS, DistributionFinding, RiskItem, VerifiedBirthDate
from tiptriage.triage.places import IpCountries, PhoneRegions, address_country
from tiptriage.triage.subjectlinks import SubjectLinks


@dataclass(frozen=True, slots=True)
class Loaded:
    report: ReportInput
    history: SubjectHistory
    key: tuple[str, str]  # source, external id: the same report in all its versions
    version: int
    received_at: datetime
    postcodes: tuple[str, ...]  # this report's reported persons
    subject_postcodes: tuple[tuple[date, str], ...]  # the subject's other reports, with their day


@dataclass(frozen=True, slots=True)
class _Report:
    id: int
    key: tuple[str, str]
    version: int
    day: date
    row: object


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    report_id: int
    ref: str
    role: str
    named: bool
    dob: date | None
    age: int | None
    estimated_country: str | None
    prior_reports: int


class Places:
    """What places persons and judges files: the IP table, a memo of phone regions and the services
    table, shared by one triage run."""

    def __init__(self, ips: IpCountries, jurisdiction: str, services: Services | None = None):
        self.ips = ips
        self.phones = PhoneRegions(jurisdiction)
        self.services = services or Services({})


def load(session: Session, report_ids: list[int], links: SubjectLinks, places: Places) -> dict[int, Loaded]:
    reports = _reports(session, report_ids)
    persons = _persons(session, report_ids)
    own = [p.id for ps in persons.values() for p in ps if p.role == "reported"]
    subject_of = links.subjects_of(session, own)
    members = links.members_of(session, sorted(set(subject_of.values())))
    mine = {p.id for ps in persons.values() for p in ps}
    candidates = links.candidates_of(session, own)
    candidate_members = links.members_of(session, sorted({c for cs in candidates.values() for c in cs}))
    maybe = {m for ms in candidate_members.values() for m in ms}
    # The subjects' other members, and those of subjects linkage holds as possibly the same person
    # (their reports' files say whether that person distributed).
    others = _persons_by_id(session, sorted(({m for ms in members.values() for m in ms} | maybe) - mine))
    reports |= _reports(session, sorted({p.report_id for p in others.values()} - set(reports)))
    evidence = _evidence(session, reports, places.services)
    everyone = {p.id: p for ps in persons.values() for p in ps} | others
    checked = sorted(set(own) | set(others))  # whose risk items and register checks count
    addresses = _addresses(session, sorted(everyone))
    verified = _per_person(session, checked, VerifiedBirthDate.at, VerifiedBirthDate.date_of_birth)
    persons, everyone = _as_identified(session, persons, everyone, addresses, verified)
    context = _Context(
        reports, persons, subject_of, members, everyone,
        _identifiers(session, own), addresses, _ips(session, own),
        _files(session, sorted(reports)), evidence,
        registry.warning_inputs(session, sorted(set(own) | set(others) | maybe)),
        registry.investigation_inputs(session, sorted({p.report_id for p in everyone.values()})),
        _per_person(session, checked, RiskItem.item, RiskItem.value), verified, places, candidates,
        candidate_members)
    return {rid: context.assemble(rid) for rid in report_ids if rid in reports}


def _as_identified(session: Session, persons: dict[int, list[_Person]], everyone: dict[int, _Person],
                   addresses: dict, verified: dict) -> tuple[dict[int, list[_Person]], dict[int, _Person]]:
    """Persons the unit identified (`subjects.identity`) as their identification establishes them:
    named, its date of birth (a register's counts as a register check), its address placing them."""
    found = identity.newest(session, sorted(everyone))
    if not found:
        return persons, everyone
    for pid, ident in found.items():
        if has_address(ident):
            addresses[pid].append((ident.postcode, ident.country))
        if ident.date_of_birth and ident.source in BIRTH_DATE_REGISTERS:
            verified[pid].append((ident.id, ident.at, ident.date_of_birth))

    def seen(p: _Person) -> _Person:
        ident = found.get(p.id)
        if ident is None:
            return p
        return replace(p, named=True, dob=ident.date_of_birth or p.dob, age=None if ident.date_of_birth else p.age)

    return ({rid: [seen(p) for p in ps] for rid, ps in persons.items()},
            {pid: seen(p) for pid, p in everyone.items()})


# --- queries ------------------------------------------------------------------------------------

def _reports(session: Session, ids: list[int]) -> dict[int, _Report]:
    out = {}
    cols = (Report.id, Report.source, Report.external_id, Report.version, Report.incident_at, Report.reported_at,
            Report.ingested_at, Report.incident_type, Report.annotations, Report.escalation, Report.platform,
            Report.reporter, Report.incidents)
    for part in chunks(ids):
        for row in session.execute(select(*cols).where(Report.id.in_(part))):
            day = (row.incident_at or row.reported_at or row.ingested_at).date()
            out[row.id] = _Report(row.id, (row.source, row.external_id), row.version, day, row)
    return out


def _person(row) -> _Person:
    return _Person(row.id, row.report_id, row.ref, row.role, bool(row.given_name or row.family_name),
                   row.date_of_birth, row.age, row.estimated_country, len(row.prior_reports or ()))


_PERSON_COLS = (ReportedPersonRow.id, ReportedPersonRow.report_id, ReportedPersonRow.ref, ReportedPersonRow.role,
                ReportedPersonRow.given_name, ReportedPersonRow.family_name, ReportedPersonRow.date_of_birth,
                ReportedPersonRow.age, ReportedPersonRow.estimated_country, ReportedPersonRow.prior_reports)


def _persons(session: Session, report_ids: list[int]) -> dict[int, list[_Person]]:
    out: dict[int, list[_Person]] = defaultdict(list)
    for part in chunks(report_ids):
        for row in session.execute(select(*_PERSON_COLS).where(ReportedPersonRow.report_id.in_(part))
                                   .order_by(ReportedPersonRow.id)):
            out[row.report_id].append(_person(row))
    return out


def _persons_by_id(session: Session, ids: list[int]) -> dict[int, _Person]:
    out = {}
    for part in chunks(ids):
        for row in session.execute(select(*_PERSON_COLS).where(ReportedPersonRow.id.in_(part))):
            out[row.id] = _person(row)
    return out


def _identifiers(session: Session, person_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for part in chunks(person_ids):
        rows = session.execute(select(IdentifierRow.person_id, IdentifierRow.kind, IdentifierRow.value)
                               .where(IdentifierRow.person_id.in_(part), IdentifierRow.kind.in_(("email", "phone"))))
        for person_id, kind, value in rows:
            out[person_id].append((kind, value))
    return out


def _addresses(session: Session, person_ids: list[int]) -> dict[int, list[tuple[str | None, str | None]]]:
    out: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
    for part in chunks(person_ids):
        rows = session.execute(select(AddressRow.person_id, AddressRow.postcode, AddressRow.country)
                               .where(AddressRow.person_id.in_(part)).order_by(AddressRow.id))
        for person_id, postcode, country in rows:
            out[person_id].append((postcode, country))
    return out


def _ips(session: Session, person_ids: list[int]) -> dict[int, set[str]]:
    """The addresses a person used; one the platform believes is a proxy places no one."""
    out: dict[int, set[str]] = defaultdict(set)
    for part in chunks(person_ids):
        for person_id, ip in session.execute(select(IpEventRow.person_id, IpEventRow.ip)
                                             .where(IpEventRow.person_id.in_(part),
                                                    IpEventRow.possible_proxy.is_not(True))):
            out[person_id].add(ip)
    return out


def _evidence(session: Session, reports: dict[int, _Report], services: Services) -> dict[int, Evidence]:
    """Per report what tells how its files travelled: recipients named, incidents, the service."""
    recipients: dict[int, int] = defaultdict(int)
    used: dict[int, set[str]] = defaultdict(set)  # the reported persons' services (NCMEC espService)
    for part in chunks(sorted(reports)):
        for report_id, count in session.execute(
                select(ReportedPersonRow.report_id, func.count()).where(
                    ReportedPersonRow.report_id.in_(part), ReportedPersonRow.role == "recipient")
                .group_by(ReportedPersonRow.report_id)):
            recipients[report_id] = count
        for report_id, platform in session.execute(
                select(ReportedPersonRow.report_id, IdentifierRow.platform).distinct()
                .join(IdentifierRow, IdentifierRow.person_id == ReportedPersonRow.id)
                .where(ReportedPersonRow.report_id.in_(part), ReportedPersonRow.role == "reported",
                       IdentifierRow.kind.in_(("screen_name", "esp_user_id")), IdentifierRow.platform.is_not(None))):
            used[report_id].add(platform)
    out = {}
    for rid, rep in reports.items():
        incidents = rep.row.incidents or ()
        out[rid] = Evidence(
            recipients=recipients[rid], incidents=tuple(i["kind"] for i in incidents),
            own_web_page=any(i["kind"] == "web_page" and i.get("third_party_hosted") is not True for i in incidents),
            storage=services.is_storage(rep.row.platform, rep.row.reporter, *sorted(used[rid])))
    return out


def _files(session: Session, report_ids: list[int]) -> dict[int, list[tuple]]:
    """Each report's files with media's status, the series of the bank entries they match, and
    what an analyst established about their distribution (None: nothing).

    Read straight from media's tables with two joins per batch (media.service.file_status builds
    whole documents per file, which costs more than all of triage at 100k reports)."""
    out: dict[int, list[tuple]] = defaultdict(list)
    for part in chunks(report_ids):
        series: dict[int, set[str]] = defaultdict(set)
        for file_id, name in session.execute(
                select(FileMatch.file_id, BankEntry.series).join(BankEntry, BankEntry.id == FileMatch.bank_entry_id)
                .join(FileRow, FileRow.id == FileMatch.file_id)
                .where(FileRow.report_id.in_(part), FileMatch.superseded_run_id.is_(None),
                       BankEntry.series.is_not(None))):
            series[file_id].add(name)
        findings = {file_id: distributed for _, file_id, distributed in sorted(session.execute(
            select(DistributionFinding.id, DistributionFinding.file_id, DistributionFinding.distributed)
            .where(DistributionFinding.report_id.in_(part))).all())}  # the newest per file counts
        rows = session.execute(
            select(FileRow.id, FileRow.report_id, FileRow.person_ref, FileRow.action, FileRow.recipients,
                   FileRow.publicly_available, FileRow.classification, FileRow.annotations, FileMatchState.status)
            .outerjoin(FileMatchState, FileMatchState.file_id == FileRow.id)
            .where(FileRow.report_id.in_(part)).order_by(FileRow.id))
        for r in rows:
            out[r.report_id].append((r, r.status, tuple(sorted(series.get(r.id, ()))), findings.get(r.id)))
    return out


def _per_person(session: Session, person_ids: list[int], *columns) -> dict[int, list[tuple]]:
    """Person id → (row id, *columns) of an analyst's records (risk items, register checks)."""
    table = columns[0].class_
    out: dict[int, list[tuple]] = defaultdict(list)
    for part in chunks(person_ids):
        for row in session.execute(select(table.id, table.person_id, *columns).where(table.person_id.in_(part))):
            out[row[1]].append((row[0], *row[2:]))
    return out


# --- assembly -----------------------------------------------------------------------------------

@dataclass
class _Context:
    reports: dict[int, _Report]
    persons: dict[int, list[_Person]]
    subject_of: dict[int, int]
    members: dict[int, list[int]]
    others: dict[int, _Person]  # every person loaded, by id: the batch's and the subjects' other members
    identifiers: dict[int, list[tuple[str, str]]]
    addresses: dict[int, list[tuple[str | None, str | None]]]
    ips: dict[int, set[str]]
    files: dict[int, list[tuple]]  # of the batch's reports and of the subjects' other reports
    evidence: dict[int, Evidence]
    warnings: dict[int, list[tuple[int, WarningInput]]]  # person → (report, warning)
    investigations: dict[int, list[tuple[int, InvestigationInput]]]  # report → (report, investigation)
    risk: dict[int, list[tuple[int, str, bool]]]
    verified: dict[int, list[tuple[int, datetime, date]]]  # person → (row id, when, verified date of birth)
    places: Places
    candidates: dict[int, list[int]]  # person → subjects it may also be (open linkage reviews)
    candidate_members: dict[int, list[int]]

    def assemble(self, rid: int) -> Loaded:
        rep = self.reports[rid]
        persons = self.persons.get(rid, [])
        subjects = sorted({self.subject_of[p.id] for p in persons if p.id in self.subject_of})
        members = [self.others[m] for s in subjects for m in self.members.get(s, ()) if m in self.others]
        # Other versions of this same report are not other reports of the subject.
        related = [p for p in members if p.report_id != rid and self.reports[p.report_id].key != rep.key]
        report = ReportInput(rid, rep.row.incident_at, rep.row.reported_at, rep.row.ingested_at,
                             rep.row.incident_type, tuple(rep.row.annotations or ()),
                             tuple(self._person_input(p) for p in persons), self._file_inputs(rid, persons),
                             rep.row.escalation, self.evidence[rid])
        history = self._history(rep, persons, related, members, subjects)
        return Loaded(report, history, rep.key, rep.version, rep.row.reported_at or rep.row.ingested_at,
                      self._postcodes(p for p in persons if p.role == "reported"),
                      tuple((self.reports[p.report_id].day, pc) for p in related for pc in self._postcodes([p])))

    def _person_input(self, p: _Person) -> PersonInput:
        ids = self.identifiers.get(p.id, ())
        addresses = self.addresses.get(p.id, ())
        countries = [address_country(country, postcode) for postcode, country in addresses]
        countries += [self.places.phones.region(v) for k, v in ids if k == "phone"]
        countries += [self.places.ips.country(ip) for ip in sorted(self.ips.get(p.id, ()))]
        countries.append(p.estimated_country.upper() if p.estimated_country else None)
        return PersonInput(p.role, p.dob, p.age, p.named, bool(ids), bool(addresses),
                           tuple(c for c in countries if c), p.prior_reports)

    def _file_inputs(self, rid: int, persons: list[_Person]) -> tuple[FileInput, ...]:
        roles = {p.ref: p.role for p in persons}
        return tuple(self._file_input(r, status, series, roles.get(r.person_ref, "reported") == "reported", finding)
                     for r, status, series, finding in self.files.get(rid, ()))

    @staticmethod
    def _file_input(r, status: str | None, series: tuple[str, ...], held_by_reported: bool,
                    finding: bool | None) -> FileInput:
        return FileInput(r.action, status, len(r.recipients or ()), r.publicly_available, r.classification,
                         tuple(r.annotations or ()), series, held_by_reported, finding)

    def _history(self, rep: _Report, persons: list[_Person], related: list[_Person], members: list[_Person],
                 subjects: list[int]) -> SubjectHistory:
        people = [p for p in persons if p.role == "reported"] + related
        report_ids = {p.report_id for p in people}
        same = {r for r in report_ids | {rep.id} if self.reports[r].key == rep.key}
        warnings = {w.warning_id: w for p in people for r, w in self.warnings.get(p.id, ())}
        covered = {w.warning_id for p in people for r, w in self.warnings.get(p.id, ()) if r in same}
        investigations = {i.investigation_id: (r, i) for r in report_ids for _, i in self.investigations.get(r, ())}
        return SubjectHistory(
            subject_ids=tuple(subjects),
            other_report_days=tuple(d for d, _ in sorted({(self.reports[p.report_id].day, p.report_id)
                                                          for p in related})),
            ages=tuple(AgeEvidence(p.dob, p.age, self.reports[p.report_id].day) for p in related
                       if p.dob is not None or p.age is not None),
            warnings=tuple(_covering(w, w.warning_id in covered) for w in warnings.values()),
            investigations=tuple(_covering(i, r in same) for r, i in investigations.values()),
            risk_items=tuple((item, value) for _, item, value in
                             sorted(x for p in people for x in self.risk.get(p.id, ()))),
            candidate_warnings=self._candidate_warnings(persons, set(subjects)),
            candidate_spread=self._candidate_spread(persons, set(subjects)),
            named=any(p.named for p in people),
            verified_birth_dates=self._verified(persons, members),
            **self._elsewhere(related))

    def _elsewhere(self, related: list[_Person]) -> dict:
        """What the subject's other reports hold: files of theirs (or of no one named) distributed, new."""
        distributed = new = False
        for p in related:
            spread, fresh = self._spread(p)
            distributed, new = distributed or spread, new or fresh
        return {"distributed_elsewhere": distributed, "new_material_elsewhere": new}

    def _spread(self, p: _Person) -> tuple[bool, bool]:
        """Whether a person distributed, and held new material, in their report."""
        distributed = new = False
        for r, status, series, finding in self.files.get(p.report_id, ()):
            if r.person_ref not in (None, p.ref) or status == "non_pertinent":
                continue
            new = new or status == "new"
            distributed = distributed or distribution_of(self._file_input(r, status, series, True, finding),
                                                         self.evidence[p.report_id]) == DISTRIBUTED
        return distributed, new

    def _candidate_spread(self, persons: list[_Person], subjects: set[int]) -> tuple[int, ...]:
        """Subjects linkage holds as possibly this person (open reviews) that distributed or held new
        material: no warning before an analyst has answered that review."""
        maybe = sorted({c for p in persons for c in self.candidates.get(p.id, ()) if c not in subjects})
        return tuple(c for c in maybe if any(any(self._spread(self.others[m])) for m in
                                             self.candidate_members.get(c, ()) if m in self.others))

    def _verified(self, persons: list[_Person], members: list[_Person]) -> tuple[date, ...]:
        """Register checks of any current member, newest last; also one made on another version of
        this report (a date of birth belongs to the person, not to a report)."""
        checked = {p.id for p in persons if p.role == "reported"} | {p.id for p in members}
        checks = sorted((at, row, born) for pid in checked for row, at, born in self.verified.get(pid, ()))
        return tuple(born for _, _, born in checks)

    def _candidate_warnings(self, persons: list[_Person], subjects: set[int]) -> tuple:
        maybe = sorted({c for p in persons for c in self.candidates.get(p.id, ()) if c not in subjects})
        return tuple((c, w) for c in maybe for m in self.candidate_members.get(c, ())
                     for _, w in self.warnings.get(m, ()))

    def _postcodes(self, persons) -> tuple[str, ...]:
        return tuple(pc for p in persons for pc, country in self.addresses.get(p.id, ())
                     if pc and address_country(country, pc) == "NL")


def _covering(item, covers: bool):
    return replace(item, covers_report=covers)
