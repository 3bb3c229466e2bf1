"""Facts: what triage knows about one report and the subject behind it.

`derive_facts(report, history, settings)` is the one function that computes them. It is pure:
plain inputs (built from the database by `triage.service`), no clock, no I/O, so the same
inputs always give the same facts and every fact can be tested in isolation. Policies
(`triage.policy`) only ever see the `Facts` below, by name; `FACT_SCHEMA` is what the policy
loader checks conditions against. docs/triage.md explains each fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from tiptriage.i18n import N_
from tiptriage.registry.records import InvestigationInput, WarningInput
from tiptriage.subjects.identifiers import birth_range_from_age
from tiptriage.triage.distribution import DISTRIBUTED, UNDETERMINED, Evidence, judge

# Report annotations and incident types that signal a risk of contact offending. Annotations are
# folded (lower case, words joined by "_") before comparison, so "Self-Production" and NCMEC's
# element names ("csamSolicitation") count too.
ENTICEMENT = frozenset({"enticement", "online_enticement", "grooming"})
SEXTORTION = frozenset({"sextortion"})
SELF_PRODUCTION = frozenset({"self_production", "self_produced", "production"})
SOLICITATION = frozenset({"csam_solicitation", "solicitation"})
SADISTIC = frozenset({"sadistic_online_exploitation"})
ENTICEMENT_INCIDENT_WORDS = ("enticement",)
SENT_TO_CHILD_INCIDENT_WORDS = ("sent to a child",)
INFANT = frozenset({"infant", "toddler", "infant_toddler"})
# Dates of birth that forms fill in when the real one is unknown: no evidence of age.
PLACEHOLDER_BIRTH_DATES = frozenset({date(1900, 1, 1), date(1901, 1, 1), date(1970, 1, 1)})
PERTINENT = frozenset({"known", "new"})


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def fold(text: str) -> str:
    return "_".join(_CAMEL.sub(" ", text).lower().replace("-", " ").replace("_", " ").split())


# --- inputs -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FileInput:
    action: str | None  # as the source states it; None when it does not (NCMEC never does)
    status: str | None  # media status: known, new, unrated, non_pertinent; None = not matched yet
    recipients: int = 0
    publicly_available: bool | None = None
    classification: str | None = None
    annotations: tuple[str, ...] = ()
    series: tuple[str, ...] = ()  # series of the bank entries a known file matched
    held_by_reported: bool = True  # False when the file belongs to a recipient or victim block
    finding: bool | None = None  # an analyst established it was (not) distributed: that counts first


@dataclass(frozen=True, slots=True)
class PersonInput:
    role: str  # reported, recipient, victim
    date_of_birth: date | None = None
    age: int | None = None  # as reported, at the incident
    named: bool = False  # a given or family name
    contact: bool = False  # an e-mail address or phone number
    has_address: bool = False
    countries: tuple[str, ...] = ()  # where the evidence places them: addresses, phones, IPs, ESP estimate
    esp_prior_reports: int = 0


@dataclass(frozen=True, slots=True)
class ReportInput:
    report_id: int
    incident_at: datetime | None
    reported_at: datetime | None
    ingested_at: datetime
    incident_type: str | None = None
    annotations: tuple[str, ...] = ()
    persons: tuple[PersonInput, ...] = ()
    files: tuple[FileInput, ...] = ()
    escalation: str | None = None  # the platform's escalateToHighPriority text
    evidence: Evidence = Evidence()  # how its files travelled, for judging distribution

    @property
    def day(self) -> date:
        """The date the report is about: the incident, else when it was reported, else received."""
        return (self.incident_at or self.reported_at or self.ingested_at).date()


@dataclass(frozen=True, slots=True)
class AgeEvidence:
    """A date of birth or an age at a moment, from another report of the same subject."""

    date_of_birth: date | None
    age: int | None
    on: date


@dataclass(frozen=True, slots=True)
class SubjectHistory:
    subject_ids: tuple[int, ...] = ()
    other_report_days: tuple[date, ...] = ()  # the subject's other reports, by their day
    ages: tuple[AgeEvidence, ...] = ()
    warnings: tuple[WarningInput, ...] = ()
    investigations: tuple[InvestigationInput, ...] = ()
    risk_items: tuple[tuple[str, bool], ...] = ()  # (item, value), newest last
    # Dates of birth analysts verified in a register (BRP) for any member of the subject, newest last.
    verified_birth_dates: tuple[date, ...] = ()
    # Subjects linkage holds as possibly the same person (open reviews), with their warnings.
    candidate_warnings: tuple[tuple[int, WarningInput], ...] = ()
    named: bool = False  # another report of the subject names the person (or the unit identified them)
    # Another report of the subject (any time, any version but this report's) has a distributed file
    # or new material: the person is judged, not the report.
    distributed_elsewhere: bool = False
    new_material_elsewhere: bool = False
    # Subjects linkage holds as possibly the same person (open reviews) that distributed or held new material.
    candidate_spread: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FactSettings:
    jurisdiction: str = "NL"
    youth_age: int = 18


# --- the facts ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Facts:
    escalated: bool
    distributed: bool
    distributed_files: int
    undetermined_files: int
    distribution_undetermined: bool
    distributed_elsewhere: bool
    new_material_elsewhere: bool
    recipients: int
    publicly_available: bool
    new_material: bool
    new_files: int
    known_only: bool
    known_files: int
    unrated: bool
    unrated_files: int
    files: int
    volume: int
    a1: bool
    infant: bool
    series: int
    age: int | None
    minor: bool | None
    age_source: str | None  # "register" (a verified date of birth) or "reported"; None when unknown
    identified: bool
    named: bool  # a name is known for the person: in this or another report of the subject, or identified
    in_jurisdiction: bool | None
    abroad: bool  # the evidence places the person abroad only (in_jurisdiction is false)
    prior_reports: int
    esp_prior_reports: int
    active_warning: bool
    earlier_warning: bool
    rereport_after_warning: bool
    warned_after_incident: bool
    possible_rereport_after_warning: bool
    possible_warned_subject: int | None
    possible_distributor: bool  # linkage holds as possibly this person a subject that distributed or had new material
    possible_distributor_subject: int | None
    pending_warning: bool
    warned_for_report: bool  # an approved or delivered warning answers this very report
    warning_date: str | None
    warning_unit: str | None
    under_investigation: bool
    investigating_unit: str | None
    enticement: bool
    sextortion: bool
    self_production: bool
    minor_recipient: bool
    csam_solicitation: bool
    sadistic: bool
    contact_risk: bool
    access_to_children: bool | None
    prior_sexual_offence: bool | None
    prior_record: bool | None
    subject_ids: tuple[int, ...] = field(default=())

    def as_dict(self) -> dict:
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["subject_ids"] = list(self.subject_ids)
        return doc


def _schema() -> dict[str, tuple[str, bool]]:
    kinds = {"bool": "bool", "int": "int", "str": "str"}
    schema = {}
    for f in fields(Facts):
        if f.name == "subject_ids":
            continue  # context, not a fact a policy may test
        text = str(f.type).replace(" ", "")
        base, _, rest = text.partition("|")
        schema[f.name] = (kinds[base], rest == "None")
    return schema


# fact name → (type, nullable): what a policy condition may compare, and with what.
FACT_SCHEMA: dict[str, tuple[str, bool]] = _schema()
RISK_ITEMS = (N_("access_to_children"), N_("prior_sexual_offence"), N_("prior_record"))

# The age bands the queue filters by and statistics count in (code: words), from the person's age
# at the incident (`age` above): the youth track's bands, then adults. The youth track's line
# (settings.youth_age, 18 by default) falls on a band edge.
AGE_BANDS = {"0-13": N_("under 14"), "14-15": N_("14-15"), "16-17": N_("16-17"), "18-24": N_("18-24"),
             "25-39": N_("25-39"), "40+": N_("40 and older"), "unknown": N_("age unknown")}
_LOWEST = (("40+", 40), ("25-39", 25), ("18-24", 18), ("16-17", 16), ("14-15", 14))  # a band's lowest age


def age_band(age: int | None) -> str:
    """The code of the band an age falls in (a key of AGE_BANDS)."""
    if age is None:
        return "unknown"
    return next((band for band, low in _LOWEST if age >= low), "0-13")


def derive_facts(report: ReportInput, history: SubjectHistory, settings: FactSettings = FactSettings()) -> Facts:
    """The facts of one report and its subject. Pure: see the module docstring."""
    day = report.day
    mine = [f for f in report.files if f.held_by_reported]
    reported = [p for p in report.persons if p.role == "reported"]
    place = _in_jurisdiction(reported, settings.jurisdiction)
    return Facts(
        escalated=report.escalation is not None,
        **_file_facts(report.files, mine, report.evidence),
        distributed_elsewhere=history.distributed_elsewhere,
        new_material_elsewhere=history.new_material_elsewhere,
        **_age_facts(reported, history, day, settings.youth_age),
        identified=any(p.named or p.contact or p.has_address for p in reported),
        named=any(p.named for p in reported) or history.named,
        in_jurisdiction=place,
        abroad=place is False,
        prior_reports=sum(1 for d in history.other_report_days if d <= day),
        esp_prior_reports=max((p.esp_prior_reports for p in reported), default=0),
        **_warning_facts(history.warnings, day),
        **_possible_rereport(history.candidate_warnings, day),
        possible_distributor=bool(history.candidate_spread),
        possible_distributor_subject=min(history.candidate_spread, default=None),
        **_investigation_facts(history.investigations),
        **_contact_facts(report, day, settings.youth_age),
        **_risk_facts(history.risk_items),
        subject_ids=tuple(sorted(history.subject_ids)),
    )


def _file_facts(files: tuple[FileInput, ...], mine: list[FileInput], evidence: Evidence) -> dict:
    # A file without a status has not been matched yet: like an unrated file, it needs a human.
    status = [f.status or "unrated" for f in files]
    verdicts = [(f, distribution_of(f, evidence)) for f in mine if f.status != "non_pertinent"]
    spread = [f for f, verdict in verdicts if verdict == DISTRIBUTED]
    series = {s for f in files if f.status == "known" for s in f.series}
    pertinent = [f for f, s in zip(files, status, strict=True) if s in PERTINENT]
    undetermined = sum(1 for _, verdict in verdicts if verdict == UNDETERMINED)
    return {
        "distributed": bool(spread),
        "distributed_files": len(spread),
        "undetermined_files": undetermined,
        "distribution_undetermined": undetermined > 0,
        # NCMEC names recipients for the report, not per file.
        "recipients": max([f.recipients for f in spread] + [evidence.recipients if spread else 0]),
        "publicly_available": any(f.publicly_available for f in spread),
        "new_material": "new" in status,
        "new_files": status.count("new"),
        "known_only": "known" in status and "new" not in status,
        "known_files": status.count("known"),
        "unrated": "unrated" in status,
        "unrated_files": status.count("unrated"),
        "files": len(files),
        "volume": len(pertinent),
        "a1": any(f.classification == "A1" for f in pertinent),
        "infant": any(fold(a) in INFANT for f in pertinent for a in f.annotations),
        "series": len(series),
    }


def distribution_of(file: FileInput, evidence: Evidence) -> str:
    """A file's verdict (triage/distribution.py)."""
    return judge(file.action, file.publicly_available, evidence, file.recipients, file.finding).verdict


# --- age ----------------------------------------------------------------------------------------

def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _possible_ages(dob: date | None, age: int | None, seen_on: date, day: date) -> tuple[int, int] | None:
    """The youngest and oldest the person can be on `day`, from one piece of evidence."""
    if age is not None and 0 <= age <= 120:
        if seen_on == day:
            return age, age
        born = birth_range_from_age(age, seen_on)
        return None if born is None else (age_on(born.latest, day), age_on(born.earliest, day))
    if dob is None or dob in PLACEHOLDER_BIRTH_DATES or dob > day:
        return None
    if (dob.month, dob.day) == (1, 1):
        # Platforms default an unknown day to 1 January: only the year is evidence.
        return age_on(date(dob.year, 12, 31), day), age_on(dob, day)
    return age_on(dob, day), age_on(dob, day)


def _age_facts(reported: list[PersonInput], history: SubjectHistory, day: date, youth_age: int) -> dict:
    """Age at the incident: the newest register check, else this report's reported age, else its
    date of birth, else the subject's other reports.

    A register beats a platform's guess. A reported age is the platform's word for the incident
    itself; a date of birth may be a platform default. Evidence that leaves both sides of the youth
    age open decides nothing.
    """
    verified = history.verified_birth_dates[-1] if history.verified_birth_dates else None
    # Born after the incident: the check or the incident date is wrong, so the check decides nothing.
    if verified is not None and verified <= day:
        age = age_on(verified, day)
        return {"age": age, "minor": age < youth_age, "age_source": "register"}
    candidates = [_possible_ages(None, p.age, day, day) for p in reported]
    candidates += [_possible_ages(p.date_of_birth, None, day, day) for p in reported]
    candidates += [_possible_ages(e.date_of_birth, e.age, e.on, day) for e in history.ages]
    for found in candidates:
        if found is None:
            continue
        low, high = found
        if (low < youth_age) == (high < youth_age):
            return {"age": low, "minor": low < youth_age, "age_source": "reported"}
    return {"age": None, "minor": None, "age_source": None}


# --- place --------------------------------------------------------------------------------------

def _in_jurisdiction(reported: list[PersonInput], home: str) -> bool | None:
    """In: any evidence places them at home. Out: evidence, all of it abroad. None: no evidence."""
    countries = {c.upper() for p in reported for c in p.countries if c}
    if not countries:
        return None
    return home.upper() in countries


# --- warnings and investigations ------------------------------------------------------------------

def _counts(w: WarningInput) -> bool:
    return w.state == "delivered" and w.delivered_on is not None and not w.covers_report


def _warning_facts(warnings: tuple[WarningInput, ...], day: date) -> dict:
    """Warnings as they stood on the report's day: a warning delivered before the incident makes it
    a re-report (active, or earlier when it had already expired by then); one delivered after the
    incident only tells the analyst that the subject was warned since."""
    delivered = sorted((w for w in warnings if _counts(w)), key=lambda w: (w.delivered_on, w.warning_id))
    before = [w for w in delivered if w.delivered_on < day]
    active = [w for w in before if w.expires_on is None or w.expires_on > day]
    shown = (before or delivered or [None])[-1]
    return {
        "active_warning": bool(active),
        "earlier_warning": len(active) < len(before),
        "rereport_after_warning": bool(before),
        "warned_after_incident": len(before) < len(delivered),
        "pending_warning": any(w.state in ("proposed", "approved") and not w.covers_report for w in warnings),
        "warned_for_report": any(w.state in ("approved", "delivered") and w.covers_report for w in warnings),
        "warning_date": shown.delivered_on.isoformat() if shown else None,
        "warning_unit": shown.unit if shown else None,
    }


def _possible_rereport(candidates: tuple[tuple[int, WarningInput], ...], day: date) -> dict:
    """A warned subject that linkage could not tell apart from this one (an open review)."""
    found = sorted(subject for subject, w in candidates if _counts(w) and w.delivered_on < day)
    return {"possible_rereport_after_warning": bool(found), "possible_warned_subject": found[0] if found else None}


def _investigation_facts(investigations: tuple[InvestigationInput, ...]) -> dict:
    running = sorted((i for i in investigations if i.open and not i.covers_report), key=lambda i: i.investigation_id)
    return {"under_investigation": bool(running), "investigating_unit": running[0].unit if running else None}


# --- contact risk -------------------------------------------------------------------------------

def _contact_facts(report: ReportInput, day: date, youth_age: int) -> dict:
    notes = {fold(a) for a in report.annotations}
    incident = (report.incident_type or "").lower()
    minors_reached = any(_is_minor(p, day, youth_age) for p in report.persons if p.role == "recipient")
    indicators = {
        "enticement": bool(notes & ENTICEMENT) or any(w in incident for w in ENTICEMENT_INCIDENT_WORDS),
        "sextortion": bool(notes & SEXTORTION) or "sextortion" in incident,
        "self_production": bool(notes & SELF_PRODUCTION),
        "minor_recipient": minors_reached or any(w in incident for w in SENT_TO_CHILD_INCIDENT_WORDS),
        "csam_solicitation": bool(notes & SOLICITATION),
        "sadistic": bool(notes & SADISTIC),
    }
    return indicators | {"contact_risk": any(indicators.values())}


def _is_minor(person: PersonInput, day: date, youth_age: int) -> bool:
    found = _possible_ages(person.date_of_birth, None, day, day) or _possible_ages(None, person.age, day, day)
    return found is not None and found[0] < youth_age


def _risk_facts(items: tuple[tuple[str, bool], ...]) -> dict:
    latest: dict[str, bool | None] = dict.fromkeys(RISK_ITEMS)
    for name, value in items:  # newest last: a later assessment replaces an earlier one
        if name in latest:
            latest[name] = value
    return latest
