"""Ground truth of a synthetic data set: what is really so, and what a careful analyst concludes.

`truth.json` (one JSON object, written as the reports are generated):

- `generator`: seed, number of reports, the options (shares) used, the reference period, and
  `extensions`: whether NCMEC reports carry tiptriage's `<action>` extension (and inline files).
- `platforms`: every platform's kind of service (`chat`, `social`, `video`, `storage`, `email`,
  `p2p`, `gaming`, `other`): the services table a deployment would configure
  (TIPTRIAGE_SERVICES_FILE, CSV `service,kind`).
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
- `followup` (only with re-report hazards): the follow-up cohort for the evaluation of warnings:
  `hazards_per_year` per group, `end` (the last day of follow-up) and `persons`: `{person_id, group,
  origin, report, rereport}`, the intervention's day (`warned`: the warning delivered, also in
  `warnings`; `searched`: the search; `no_action`: no action decided although the policy recommended
  one) after the index `report`, and the next report (`incident_at`) an exponential time with the
  group's hazard later, or null when that fell after `end`.
- `reports`: per report `{source, external_id, path, person_id, persons, files, facts, outcome}`:
  `persons` maps each person block's ref (p1, p1a1, r1, v1 ...) to a `person_id`; `files` maps each
  file ref to `{status, distribution, media, match}` with status `known`, `new`, `unrated` or
  `non_pertinent` (`media` and `match`, the hash type that links it to a bank, only for banked
  files) and `distribution` the analyst's verdict below; `facts` are ReportFacts and `outcome` is
  `expected_outcome_nl_2023(facts)`; `re_report_of_warning` names the warning's date when the
  report came after one.

## Distribution: the analyst's reading of what was written

NCMEC's schema has no per-file action and ties no file to a person, so whether a file was
distributed is read from the rest of the report. For each file, the first that applies decides
(`distribution`; triage reads reports the same way, triage/distribution.py):

1. the source states the action (tiptriage's `<action>` extension, JSON, CSV): upload, send,
   share or a public post → `distributed`; download or store → `not_distributed`;
2. `publiclyAvailable` true → `distributed`;
3. the report names an intended recipient → `distributed` — every file of the report, as NCMEC
   ties no file to a person;
4. the incident is peer-to-peer, a newsgroup, or a web page not hosted by a third party
   (`thirdPartyHostedContent` absent or false) → `distributed`;
5. a private storage service (platform kind `storage`) with `publiclyAvailable` explicitly false,
   and none of the above → `not_distributed` (stored);
6. anything else — a chat, e-mail, phone or game without a named recipient, a storage service
   that does not say whether the file was public, no information at all → `undetermined`.

The generator's hidden intention (the person really did send the files the chat shows no
recipient for) never reaches the truth: the verdict is taken from the written report only.

## Facts (ReportFacts)

Non-pertinent files never count; known, new and unrated files do.
- escalated: the platform escalated the report (`escalateToHighPriority`).
- distributed: a counted file is `distributed`.
- undetermined: a counted file is `undetermined` and none is `distributed`.
- distributed_elsewhere / new_material_elsewhere: another report of the same real person (at any
  time) has a distributed file / new material. The person is judged, not the report.
- new_material: a file in no bank that the platform classified (A1/A2/B1/B2).
- known_only: at least one pertinent banked file and no new material.
- unrated: a file in no bank and without classification.
- minor: the reported person was under 18 on the incident date (the true age, reported or not).
- contact_risk: a report annotation in CONTACT_RISK_ANNOTATIONS (NCMEC's sextortion,
  csamSolicitation, sadisticOnlineExploitation; our formats' sextortion, csam_solicitation,
  enticement), the incident type online enticement, or a recipient under 18 (whose age or date of
  birth the report always states).
- identified: the report names the person by name, e-mail, phone or address (false when the
  report carries only IP addresses).
- in_jurisdiction: the person lives in the Netherlands (every report carries an NL address, phone
  or IP address then, and only foreign ones otherwise; addresses flagged as possible proxies aside).
- re_report_after_warning: the incident happened after a warning was delivered to the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from tiptriage.intake.domain import DISTRIBUTING_ACTIONS, ParsedReport, ReportedFile

OUTCOMES = ("URGENT", "CRIMINAL_CASE", "YOUTH", "NEEDS_IDENTIFICATION", "FORWARD", "NEEDS_REVIEW", "WARNING",
            "NO_ACTION")
DISTRIBUTED, NOT_DISTRIBUTED, UNDETERMINED = "distributed", "not_distributed", "undetermined"
VERDICTS = (DISTRIBUTED, NOT_DISTRIBUTED, UNDETERMINED)
SHARING_INCIDENTS = frozenset({"peer2peer", "newsgroup"})
ENTICEMENT_WORDS = ("enticement",)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    escalated: bool
    distributed: bool
    undetermined: bool
    distributed_elsewhere: bool
    new_material_elsewhere: bool
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


@dataclass(frozen=True, slots=True)
class Travel:
    """What a report as a whole says about how its files travelled."""

    recipients: bool  # it names an intended recipient
    sharing_incident: bool  # peer-to-peer, a newsgroup, or a web page the reporter hosts
    storage: bool  # the platform is a private storage service


def travel(report: ParsedReport, platform_kinds: dict[str, str]) -> Travel:
    own_page = any(i.kind == "web_page" and i.third_party_hosted is not True for i in report.incidents)
    return Travel(
        recipients=any(p.role == "recipient" for p in report.persons),
        sharing_incident=own_page or any(i.kind in SHARING_INCIDENTS for i in report.incidents),
        storage=platform_kinds.get(report.platform or report.reporter or "") == "storage",
    )


def distribution(file: ReportedFile, how: Travel) -> str:
    """One file's verdict, read from the written report (see the module docstring for the order)."""
    if file.action is not None:
        return DISTRIBUTED if file.action in DISTRIBUTING_ACTIONS else NOT_DISTRIBUTED
    if file.publicly_available:
        return DISTRIBUTED
    if how.recipients or how.sharing_incident:
        return DISTRIBUTED
    if how.storage and file.publicly_available is False:
        return NOT_DISTRIBUTED
    return UNDETERMINED


def contact_risk(report: ParsedReport, minor_recipient: bool, risk_annotations: frozenset[str]) -> bool:
    incident = (report.incident_type or "").lower()
    return (bool(risk_annotations.intersection(report.annotations)) or minor_recipient
            or any(word in incident for word in ENTICEMENT_WORDS))


def expected_outcome_nl_2023(facts: ReportFacts) -> str:
    """The outcome policy version 2023.3 gives a report, as the generator models it.

    This is the generator's model of the policy, used as ground truth for evaluation; the policy
    itself lives in triage/policies. The first rule that applies wins:
    escalated, new material or contact risk → URGENT (a child may be abused now);
    a new report after a warning → CRIMINAL_CASE;
    a minor who distributed (here or in another report) → YOUTH (young people forward for fun);
    distributed → CRIMINAL_CASE; distributed or new material in another report → CRIMINAL_CASE;
    not identified → NEEDS_IDENTIFICATION; a minor → YOUTH; abroad → FORWARD;
    unrated files or undetermined distribution → NEEDS_REVIEW (an analyst answers first);
    known material, stored only → WARNING; else NO_ACTION.
    """
    if facts.escalated or facts.new_material or facts.contact_risk:
        return "URGENT"
    if facts.re_report_after_warning:
        return "CRIMINAL_CASE"
    if facts.minor and (facts.distributed or facts.distributed_elsewhere):
        return "YOUTH"
    if facts.distributed or facts.distributed_elsewhere or facts.new_material_elsewhere:
        return "CRIMINAL_CASE"
    if not facts.identified:  # before the youth track: no one can invite the parents of a person
        return "NEEDS_IDENTIFICATION"  # not yet identified, and no report says their age then
    if facts.minor:
        return "YOUTH"
    if not facts.in_jurisdiction:
        return "FORWARD"
    if facts.unrated or facts.undetermined:
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
