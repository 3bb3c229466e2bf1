"""Ground truth of a synthetic data set: what is really so, and what triage should conclude.

`truth.json` (one JSON object, written as the reports are generated):

- `generator`: seed, number of reports, the options (shares) used, the reference period.
- `ip_blocks`: the synthetic world's IP allocation per country (to tell NL addresses from others).
- `media`: every known media entry by id (`K000123`): MD5, SHA-1, PDQ, VICS category, the CSV
  bank's category, series, victim identified, and which banks hold it (`vics`, `known_csv`).
- `persons`: every real person by `person_id` (`P000123`): role in the world (`reported` or
  `contact`), official given name, the name they go by, family name, date of birth, country and
  the unit of their first home.
- `traps`: groups of distinct persons that look alike (`namesakes`: same name and birth year;
  `twins` and `siblings`: one address) and `shared_ips`: `{ip, kind, person_ids}` for CGNAT
  gateways, a university NAT and public wifi used by many people at nearby times.
- `warnings`: warnings delivered: `{person_id, date, unit, report: {source, external_id}}`.
- `reports`: per report `{source, external_id, path, person_id, persons, files, facts, outcome}`:
  `persons` maps each person block's ref (p1, r1, v1 ...) to a `person_id`; `files` maps each
  file ref to `{status, media, match}` with status `known`, `new`, `unrated` or `non_pertinent`
  (`media` and `match`, the hash type that links it to a bank, only for banked files);
  `facts` are ReportFacts and `outcome` is `expected_outcome(facts)`;
  `re_report_of_warning` names the warning's date when the report came after one.

The facts, as the generator defines them:
- distributed: the reported person uploaded, sent, shared or posted a file (reports that do
  not distribute only download or store).
- new_material: a file in no bank that the platform classified (A1/A2/B1/B2).
- known_only: at least one pertinent banked file and no new material.
- unrated: a file in no bank and without classification.
- minor: the reported person was under 18 on the incident date (the true age, reported or not).
- contact_risk: a report annotation in CONTACT_RISK_ANNOTATIONS, or a recipient under 18.
- identified: the report names the person by name, e-mail, phone or address (false when the
  report carries only IP addresses).
- in_jurisdiction: the person lives in the Netherlands (every report carries an NL address, phone
  or IP address then, and only foreign ones otherwise).
- re_report_after_warning: the incident happened after a warning was delivered to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

OUTCOMES = ("URGENT", "CRIMINAL_CASE", "YOUTH", "NEEDS_IDENTIFICATION", "FORWARD", "NEEDS_REVIEW", "WARNING",
            "NO_ACTION")


@dataclass(frozen=True, slots=True)
class ReportFacts:
    distributed: bool
    new_material: bool
    known_only: bool
    unrated: bool
    minor: bool
    contact_risk: bool
    identified: bool
    in_jurisdiction: bool
    re_report_after_warning: bool

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


def expected_outcome_nl_2023(facts: ReportFacts) -> str:
    """The outcome the Dutch practice of 2023 gives a report, as the generator models it.

    This is the generator's model of the policy, used as ground truth for evaluation; the policy
    itself lives in triage/policies. First rule that applies wins:
    new material or contact risk → URGENT (a child may be abused now);
    distributed, or a new report after a warning → CRIMINAL_CASE;
    not identified → NEEDS_IDENTIFICATION; a minor → YOUTH; abroad → FORWARD;
    unrated files → NEEDS_REVIEW; known material, downloaded or stored only → WARNING.
    """
    if facts.new_material or facts.contact_risk:
        return "URGENT"
    if facts.distributed or facts.re_report_after_warning:
        return "CRIMINAL_CASE"
    if not facts.identified:  # before the youth track: no one can invite the parents of a person
        return "NEEDS_IDENTIFICATION"  # not yet identified, and no report says their age then
    if facts.minor:
        return "YOUTH"
    if not facts.in_jurisdiction:
        return "FORWARD"
    if facts.unrated:
        return "NEEDS_REVIEW"
    if facts.known_only:
        return "WARNING"
    return "NO_ACTION"


def stored_person_ids(session, truth: dict) -> dict[int, str]:
    """Each stored reported person (role "reported") mapped to the synthetic person behind it.

    The bridge between a store that ingested a generated set and its truth.json, for the linkage
    test and benchmark: by source, external id and the person's ref inside the report.
    """
    from sqlalchemy import select

    from tiptriage.intake.models import Report, ReportedPersonRow

    by_block = {(r["source"], r["external_id"], ref): pid for r in truth["reports"] for ref, pid in r["persons"].items()}
    rows = session.execute(
        select(ReportedPersonRow.id, Report.source, Report.external_id, ReportedPersonRow.ref)
        .join(Report).where(ReportedPersonRow.role == "reported")).all()
    return {pid: by_block[(source, ext, ref)] for pid, source, ext, ref in rows}
