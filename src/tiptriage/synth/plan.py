"""Planning a data set: who is reported how often and when, through which channel, with what.

The plan is decided before any report is written, so that shares are exact (a share of 0.08 of
2,000 reports is 160 reports, chosen by sampling, not by 2,000 coin flips), warnings and the
re-reports after them line up in time, and the shared-IP traps pick reports of different people
at nearby times. Rendering a report from its plan needs nothing but the plan and a `Random`.
"""

from __future__ import annotations

import bisect
import ipaddress
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tiptriage.i18n import refusal
from tiptriage.synth import reference as ref
from tiptriage.synth.noise import age_at, gmail_canonical
from tiptriage.synth.people import (
    Account, Person, Pools, make_contact, make_email, make_person, new_account, random_ip,
)

REPORTS_PER_PERSON_WEIGHTS = (62, 18, 9, 6, 3, 2)  # 1..6 reports; most people are reported once
CHANNEL_SHARE_CSV = 0.3  # of the reports from other sources; the rest is tiptriage JSON
JSON_BATCH_SHARE = 0.4  # of the JSON reports: sent in `{"reports": [...]}` batches rather than alone
JSON_SOURCE_WEIGHTS = (50, 25, 25)
PERSON_DISTRIBUTION = 0.8  # of the distributing reports: chosen as all reports of a person
# The follow-up cohort's groups: a warning delivered, a search (a decided criminal case), or no
# action although the policy recommended one (no capacity).
COHORT_GROUPS = ("warned", "searched", "no_action")
COHORT_INDEX_END = date(2023, 1, 31)  # index reports before this leave over a year of follow-up


@dataclass(frozen=True)
class SynthOptions:
    """The controllable shares of a data set (fractions; see the module docstrings for meaning)."""

    juveniles: float = 0.25  # of reported persons: under 18 at their first reported incident
    abroad: float = 0.06  # of reported persons: living abroad
    distributors: float = 0.40  # of reports: the report shows the person uploaded, sent, shared or posted a file
    # of reports: an NCMEC report that cannot tell whether its files went anywhere (a chat without a
    # named recipient, storage without a word on public availability); about half of these persons
    # really did distribute, which only the variant with tiptriage's <action> extension shows
    undetermined: float = 0.06
    escalated: float = 0.01  # of reports: an NCMEC report the platform escalated (a child may be at risk)
    new_material: float = 0.08  # of reports: a file in no bank, classified by the platform
    contact_risk: float = 0.05  # of reports: contact-risk annotations or a minor recipient
    unidentified: float = 0.05  # of reports: only IP addresses, no name, e-mail or phone
    rereports: float = 0.02  # of reports: a new report after a warning was delivered
    unrated: float = 0.10  # of reports: a file in no bank and without classification
    non_pertinent: float = 0.05  # of reports: a file a bank marks non-pertinent
    # of NCMEC reports in the variant with extensions: files as separate <fileDetails> documents
    # (without extensions every NCMEC report comes with them, as NCMEC delivers reports)
    sibling_files: float = 0.10
    other_sources: float = 0.10  # of reports: from hotlines, foreign police, own investigations
    # A follow-up cohort for the evaluation of warnings (insight/evaluation.py): per group (warned,
    # searched, no_action) the yearly hazard of a new report after the intervention, exponential;
    # `followup` persons per group. Empty: no cohort, and the data set is as without this option.
    # With a cohort the generator's warnings are the cohort's alone and `rereports` is not used, so
    # that every warned person's next report follows the hazard asked for.
    rereport_hazards: tuple[tuple[str, float], ...] = ()
    followup: int = 100

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"share {name} must be between 0 and 1, not {value}")
        for group, hazard in self.rereport_hazards:
            if group not in COHORT_GROUPS or not 0.0 <= hazard <= 50.0:
                raise ValueError(f"re-report hazard {group}={hazard}: groups are {', '.join(COHORT_GROUPS)}, "
                                 "hazards per year between 0 and 50")
        if self.followup < 1:
            raise ValueError(f"followup must be at least 1, not {self.followup}")


@dataclass(slots=True)
class TrapUse:
    ip: str
    kind: str
    at: datetime
    port: int | None


@dataclass(slots=True, eq=False)
class PoliceWarning:
    person: Person
    date: date
    unit: str
    plan: ReportPlan


@dataclass(slots=True, eq=False)
class ReportPlan:
    person: Person
    seq: int  # the person's n-th report (0-based), in time order
    incident_at: datetime
    reported_at: datetime
    index: int = 0  # position in the data set, ordered by reported_at
    channel: str = "xml"  # xml, xml_siblings, json, csv
    batched: bool = False  # a JSON report sent in a batch with others from its source
    source: str = "NCMEC"
    platform: str = ""
    account: Account | None = None
    extra_account: Account | None = None  # a second account of the same person in the report
    distributed: bool = False  # the report shows that the person distributed a file
    undetermined: bool = False  # an NCMEC report that cannot tell whether the files went anywhere
    hidden_distribution: bool = False  # undetermined, though the person did distribute (never in the truth)
    escalated: bool = False
    no_files: bool = False  # a contact-risk report about a chat, with no file
    new_material: bool = False
    contact_risk: bool = False
    contact_by_minor_recipient: bool = False
    unidentified: bool = False
    unrated: bool = False
    non_pertinent: bool = False
    non_pertinent_only: bool = False
    warning_profile: bool = False  # planned to end in a warning that a later report follows
    cohort: str = ""  # the index report of a follow-up cohort person: its group
    after_warning: PoliceWarning | None = None
    trap_uses: list[TrapUse] = field(default_factory=list)
    external_id: str = ""
    prior_ids: tuple[str, ...] = ()

    @property
    def ncmec(self) -> bool:
        return self.channel in ("xml", "xml_siblings")

    def shows_distribution(self, extensions: bool) -> bool:
        """Whether the written report shows a distributed file: with the <action> extension the
        undetermined reports state what the person really did."""
        return self.distributed or (extensions and self.hidden_distribution)

    def shows_undetermined(self, extensions: bool) -> bool:
        return self.undetermined and not extensions


@dataclass
class World:
    persons: list[Person]
    contacts_minor: list[Person]
    contacts_adult: list[Person]
    plans: list[ReportPlan]
    warnings: list[PoliceWarning]
    traps: dict[str, list]
    followup: list[Followup] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Followup:
    """A person of the follow-up cohort: the intervention after their index report, and the next
    report the hazard gave them before the period's end (None: none, censored at the end)."""

    group: str
    hazard: float
    origin: date
    index: ReportPlan
    rereport: ReportPlan | None


def _instant(rng: random.Random, low: date, high: date) -> datetime:
    day = date.fromordinal(rng.randint(low.toordinal(), high.toordinal()))
    return datetime.combine(day, time(), UTC) + timedelta(seconds=rng.randrange(86400))


def _reported_after(rng: random.Random, incident: datetime) -> datetime:
    return incident + timedelta(seconds=rng.randint(3600, 25 * 86400))


def warning_date(rng: random.Random, reported_at: datetime) -> date:
    """Delivered in the first action week at least 60 days after the report came in."""
    earliest = reported_at.date() + timedelta(days=60)
    monday = next(w for w in ref.ACTION_WEEKS if w >= earliest)
    return monday + timedelta(days=rng.randrange(5))


def _dob_for_age(rng: random.Random, on: date, age: int) -> date:
    anniversary = date(on.year - age, on.month, min(on.day, 28))
    return anniversary - timedelta(days=rng.randrange(365))


def _report_counts(rng: random.Random, reports: int) -> list[int]:
    counts, total = [], 0
    while total < reports:
        k = min(rng.choices(range(1, 7), weights=REPORTS_PER_PERSON_WEIGHTS)[0], reports - total)
        counts.append(k)
        total += k
    return counts


def _pick(rng: random.Random, candidates: list, share: float, total: int) -> list:
    return rng.sample(candidates, min(len(candidates), round(share * total)))


def _rereported(rng: random.Random, counts: list[int], excluded: set[int], target: int) -> set[int]:
    """Persons whose first report ends in a warning and whose later reports all follow it."""
    candidates = [i for i, k in enumerate(counts) if k >= 2 and i not in excluded]
    rng.shuffle(candidates)
    chosen, covered = set(), 0
    for i in candidates:
        if covered + counts[i] - 1 <= target:
            chosen.add(i)
            covered += counts[i] - 1
        if covered >= target:
            break
    return chosen


def _dates(rng: random.Random, k: int, rereported: bool) -> tuple[list[datetime], list[datetime], date | None]:
    if not rereported:
        incidents = sorted(_instant(rng, ref.PERIOD_START, ref.PERIOD_END) for _ in range(k))
        return incidents, [_reported_after(rng, t) for t in incidents], None
    first = _instant(rng, ref.PERIOD_START, date(2023, 6, 30))
    first_reported = _reported_after(rng, first)
    warned = warning_date(rng, first_reported)
    later = sorted(_instant(rng, warned + timedelta(days=10), ref.PERIOD_END) for _ in range(k - 1))
    return [first] + later, [first_reported] + [_reported_after(rng, t) for t in later], warned


def plan_world(seed: int, pools: Pools, reports: int, options: SynthOptions) -> World:
    rng = random.Random(f"{seed}/plan")
    counts = _report_counts(rng, reports)
    n = len(counts)
    juveniles = set(rng.sample(range(n), round(options.juveniles * n)))
    abroad = set(rng.sample(range(n), round(options.abroad * n)))
    hazards = dict(options.rereport_hazards)
    rereported = (set() if hazards else
                  _rereported(rng, counts, juveniles | abroad, round(options.rereports * reports)))
    cohort = _cohort(rng, counts, juveniles | abroad, hazards, options.followup)
    persons, plans, warnings, followup = [], [], [], []
    countries = list(ref.FOREIGN)
    for i, k in enumerate(counts):
        if i in cohort:
            incidents, reported, origin = _cohort_dates(rng, cohort[i], hazards[cohort[i]])
            k = len(incidents)
        else:
            incidents, reported, warned = _dates(rng, k, i in rereported)
        first = incidents[0].date()
        age = rng.randint(12, 17) if i in juveniles else 18 + int(rng.triangular(0, 50, 10))
        country = rng.choices(countries, weights=pools.country_weights)[0] if i in abroad else "NL"
        person = make_person(pools, rng, f"P{i + 1:06d}", dob=_dob_for_age(rng, first, age), country=country,
                             first_seen=first)
        persons.append(person)
        person_plans = [ReportPlan(person, s, incidents[s], reported[s]) for s in range(k)]
        plans.extend(person_plans)
        if i in cohort:
            followup.append(_cohort_member(cohort[i], hazards[cohort[i]], origin, person_plans, warnings))
            continue
        if warned is not None:
            head = person_plans[0]
            head.warning_profile = True
            warning = PoliceWarning(person, warned, "", head)
            warnings.append(warning)
            for later in person_plans[1:]:
                later.after_warning = warning
    traps: dict[str, list] = {"namesakes": _namesakes(rng, persons, plans), "twins": [], "siblings": []}
    _households(rng, pools, persons, plans, traps)
    for w in warnings:  # after the households: a twin may have moved in with the other
        w.unit = w.person.home_on(w.date).unit or ""
    plans.sort(key=lambda p: (p.reported_at, p.person.pid, p.seq))
    for index, p in enumerate(plans):
        p.index = index
    _channels(rng, plans, options)
    _flags(rng, plans, options)
    _accounts(rng, persons, plans)
    _unique_identifiers(persons)
    traps["shared_ips"] = _shared_ips(rng, pools, plans)
    _external_ids(rng, plans)
    contacts_minor = [make_contact(pools, rng, f"P{n + j + 1:06d}", minor=True) for j in range(max(20, n // 20))]
    start = n + len(contacts_minor)
    contacts_adult = [make_contact(pools, rng, f"P{start + j + 1:06d}", minor=False) for j in range(max(30, n // 10))]
    return World(persons, contacts_minor, contacts_adult, plans, warnings, traps, followup)


def _cohort(rng: random.Random, counts: list[int], excluded: set[int], hazards: dict[str, float],
            size: int) -> dict[int, str]:
    """Persons of the follow-up cohort by group: adults living here, reported once before it."""
    if not hazards:
        return {}
    candidates = [i for i, k in enumerate(counts) if k == 1 and i not in excluded]
    wanted = size * len(hazards)
    if len(candidates) < wanted:
        raise refusal(ValueError, "a follow-up cohort of {wanted} persons needs more reports ({found} adults "
                                  "living here are reported once)", wanted=wanted, found=len(candidates))
    chosen = rng.sample(candidates, wanted)
    groups = [g for g in COHORT_GROUPS if g in hazards]
    return {i: groups[n // size] for n, i in enumerate(chosen)}


def _cohort_dates(rng: random.Random, group: str, hazard: float) -> tuple[list[datetime], list[datetime], date]:
    """The index report, the intervention after it (a warning or search in the next action week at
    least 60 days on, no action decided within two months), and the next report: after an
    exponential time with the group's yearly hazard, unless that falls after the period's end."""
    first = _instant(rng, ref.PERIOD_START, COHORT_INDEX_END)
    first_reported = _reported_after(rng, first)
    if group == "no_action":
        origin = first_reported.date() + timedelta(days=rng.randint(14, 60))
    else:
        origin = warning_date(rng, first_reported)
    incidents, reported = [first], [first_reported]
    years = rng.expovariate(hazard) if hazard > 0 else float("inf")
    end = datetime.combine(ref.PERIOD_END + timedelta(days=1), time(), UTC)
    start = datetime.combine(origin, time(), UTC)
    if years * 365.25 < (end - start).days + 1:  # no timedelta overflow for a very long time
        again = start + timedelta(days=years * 365.25)
        if again < end:
            incidents.append(again)
            reported.append(_reported_after(rng, again))
    return incidents, reported, origin


def _cohort_member(group: str, hazard: float, origin: date, plans: list[ReportPlan],
                   warnings: list[PoliceWarning]) -> Followup:
    head = plans[0]
    head.cohort = group
    head.warning_profile = group in ("warned", "no_action")  # known material, stored only: WARNING
    head.distributed = group == "searched"  # shared: a criminal case, a search
    rereport = plans[1] if len(plans) > 1 else None
    if group == "warned":
        warning = PoliceWarning(head.person, origin, "", head)
        warnings.append(warning)
        if rereport is not None:
            rereport.after_warning = warning
    return Followup(group, hazard, origin, head, rereport)


def _first_dates(plans: list[ReportPlan]) -> dict[str, date]:
    first: dict[str, date] = {}
    for p in plans:
        day = p.incident_at.date()
        if p.person.pid not in first or day < first[p.person.pid]:
            first[p.person.pid] = day
    return first


def _namesakes(rng: random.Random, persons: list[Person], plans: list[ReportPlan]) -> list[list[str]]:
    """Distinct adults with one common name and one birth year, living apart."""
    first = _first_dates(plans)
    adults = [p for p in persons if not p.abroad and p.age_on(first[p.pid]) >= 18]
    groups, used = [], set()
    for _ in range(max(1, round(0.02 * len(persons))) if len(adults) >= 2 else 0):
        a, b = rng.sample(adults, 2)
        dob = b.dob.replace(year=a.dob.year, day=min(b.dob.day, 28))
        if a.pid in used or b.pid in used or age_at(dob, first[b.pid]) < 18:
            continue  # each person in one pair; b stays the adult the plan made
        used |= {a.pid, b.pid}
        a.family = b.family = rng.choice(ref.NAMESAKE_FAMILY_NAMES)
        b.sex, b.given, b.call_name, b.dob = a.sex, a.given, a.call_name, dob
        for person in (a, b):
            person.emails = [make_email(rng, person.call_name, person.family, person.dob.year)]
        groups.append([a.pid, b.pid])
    return groups


def _households(rng: random.Random, pools: Pools, persons: list[Person], plans: list[ReportPlan],
                traps: dict[str, list]) -> None:
    """Twins and siblings: one family name, one address, one home connection, different people."""
    first = _first_dates(plans)
    residents = [p for p in persons if not p.abroad]
    if len(residents) < 2:
        return
    used: set[str] = set()
    for kind in ("twins", "siblings"):
        for _ in range(max(1, round(0.01 * len(persons)))):
            a, b = rng.sample(residents, 2)
            if kind == "twins":
                dob = a.dob
            else:
                dob = date(a.dob.year + rng.choice((-3, -2, -1, 1, 2, 3)), a.dob.month, min(a.dob.day, 28))
            if a.pid in used or b.pid in used or (age_at(dob, first[b.pid]) < 18) != (b.age_on(first[b.pid]) < 18):
                continue  # each person in one household; b stays the juvenile or adult the plan made
            used |= {a.pid, b.pid}
            b.dob, b.family, b.homes = dob, a.family, list(a.homes)
            b.emails = [make_email(rng, b.call_name, b.family, b.dob.year)]
            b.home_ips = a.home_ips[:1] + [random_ip(pools, rng, "NL")]
            traps[kind].append([a.pid, b.pid])


def _channels(rng: random.Random, plans: list[ReportPlan], options: SynthOptions) -> None:
    others = _pick(rng, plans, options.other_sources, len(plans))
    csv_plans = set(id(p) for p in rng.sample(others, round(CHANNEL_SHARE_CSV * len(others))))
    sources = list(ref.JSON_SOURCES)
    for p in others:
        if id(p) in csv_plans:
            p.channel, p.source = "csv", ref.CSV_SOURCE
        else:
            p.channel, p.source = "json", rng.choices(sources, weights=JSON_SOURCE_WEIGHTS)[0]
            p.batched = rng.random() < JSON_BATCH_SHARE
    ncmec = [p for p in plans if p.channel == "xml"]
    for p in _pick(rng, ncmec, options.sibling_files, len(ncmec)):
        p.channel = "xml_siblings"


def _flags(rng: random.Random, plans: list[ReportPlan], options: SynthOptions) -> None:
    """Exact shares by sampling; the report planned to end in a warning gets none of them.

    A warned person distributes in none of their reports and has no new material in any: the person
    is judged, not the report, so either would turn the warned report into a criminal case.
    """
    total = len(plans)
    free = [p for p in plans if not (p.warning_profile or p.cohort)]
    warned = {p.person.pid for p in plans if p.warning_profile}
    clean = [p for p in free if p.person.pid not in warned]
    for p in _pick(rng, free, options.unidentified, total):
        p.unidentified = True
    for p in _pick(rng, free, options.contact_risk, total):
        p.contact_risk = True
        # Minor recipients need files sent to them; the CSV bulk list carries no recipients.
        p.contact_by_minor_recipient = p.channel != "csv" and p.person.pid not in warned and rng.random() < 0.5
        p.distributed = p.contact_by_minor_recipient
    for p in _pick(rng, clean, options.new_material, total):
        p.new_material = True
    for p in _pick(rng, [p for p in free if p.ncmec and not p.distributed], options.undetermined, total):
        p.undetermined = True
        p.hidden_distribution = p.person.pid not in warned and rng.random() < 0.5
    # Top up to the exact count: subtracting shares first would round twice (half to even) and miss.
    missing = max(0, round(options.distributors * total) - sum(p.distributed for p in plans))
    for p in _distributors(rng, [p for p in clean if not (p.distributed or p.undetermined)], missing):
        p.distributed = True
    for p in _pick(rng, free, options.unrated, total):
        p.unrated = True
    for p in _pick(rng, free, options.non_pertinent, total):
        p.non_pertinent = True
        p.non_pertinent_only = (rng.random() < 0.4 and not (p.new_material or p.unrated or p.distributed
                                                             or p.contact_risk or p.undetermined))
    for p in free:  # some sextortion and solicitation reports are about a chat alone, with no file
        p.no_files = (p.ncmec and p.contact_risk and not p.contact_by_minor_recipient and rng.random() < 0.25
                      and not (p.new_material or p.unrated or p.non_pertinent or p.distributed or p.undetermined))
    _escalations(rng, [p for p in free if p.ncmec], options.escalated, total)


def _distributors(rng: random.Random, candidates: list[ReportPlan], count: int) -> list[ReportPlan]:
    """`count` reports that distribute: mostly whole persons (who shares, shares again), the rest
    single reports, so that some persons distribute in one report and only store in another."""
    persons: dict[str, list[ReportPlan]] = {}
    for p in candidates:
        persons.setdefault(p.person.pid, []).append(p)
    order = list(persons)
    rng.shuffle(order)
    chosen: list[ReportPlan] = []
    for pid in order:
        if len(chosen) + len(persons[pid]) > round(PERSON_DISTRIBUTION * count):
            continue
        chosen.extend(persons[pid])
    taken = set(map(id, chosen))
    rest = [p for p in candidates if id(p) not in taken]
    return chosen + rng.sample(rest, min(len(rest), count - len(chosen)))


def _escalations(rng: random.Random, ncmec: list[ReportPlan], share: float, total: int) -> None:
    """Platforms escalate mostly where the report shows contact or new material, sometimes on their own."""
    target = min(len(ncmec), round(share * total))
    risky = [p for p in ncmec if p.contact_risk or p.new_material]
    first = rng.sample(risky, min(len(risky), (target + 1) // 2))
    for p in first:
        p.escalated = True
    rest = [p for p in ncmec if not p.escalated]
    for p in rng.sample(rest, min(len(rest), target - len(first))):
        p.escalated = True


# The kinds of service an NCMEC report of each sort can come from, written only with the schema's
# elements (see render.py): stored-only material is read from a private storage service, an
# undetermined report from a service where nothing says where the files went.
STORED_KINDS = frozenset({"storage"})
UNDETERMINED_KINDS = frozenset({"chat", "email", "gaming", "social", "video", "storage"})
RECIPIENT_KINDS = frozenset({"chat", "email", "gaming", "social", "storage"})
CHAT_KINDS = frozenset({"chat", "social", "gaming"})


def platform_kinds(p: ReportPlan) -> frozenset[str] | None:
    """The kinds of service the plan's report can be written for; None: any."""
    if not p.ncmec:
        return None
    if p.no_files:
        return CHAT_KINDS
    if p.contact_by_minor_recipient:
        return RECIPIENT_KINDS
    if p.undetermined:
        return UNDETERMINED_KINDS
    if p.distributed:
        return None
    return STORED_KINDS


def _accounts(rng: random.Random, persons: list[Person], plans: list[ReportPlan]) -> None:
    """Platforms and accounts per person in time order: mostly the same account, sometimes a new one."""
    names = list(ref.PLATFORMS)
    weights = [ref.PLATFORM_WEIGHTS[n] for n in names]
    last: dict[str, str] = {}
    for p in sorted(plans, key=lambda p: (p.person.pid, p.seq)):
        person = p.person
        previous = last.get(person.pid)
        kinds = platform_kinds(p)
        fits = [(n, w) for n, w in zip(names, weights, strict=True) if kinds is None or ref.PLATFORMS[n] in kinds]
        if previous and (kinds is None or ref.PLATFORMS[previous] in kinds) and rng.random() < 0.6:
            p.platform = previous
        else:
            p.platform = rng.choices([n for n, _ in fits], weights=[w for _, w in fits])[0]
        last[person.pid] = p.platform
        own = person.accounts.get(p.platform)
        p.account = own[-1] if own and rng.random() < 0.7 else new_account(rng, person, p.platform)
        if p.channel != "csv" and not p.unidentified and rng.random() < 0.03:
            p.extra_account = new_account(rng, person, p.platform)


def _unique_identifiers(persons: list[Person]) -> None:
    """One mailbox per person and one screen name per platform, as providers and platforms enforce.

    Name-built addresses and handles collide (namesakes, twins: "jan.devries@..."); in the real world
    the second person gets "jan.devries2@...", so the later person gets a number here too."""
    mailboxes: set[str] = set()
    handles: set[tuple[str, str]] = set()
    for person in persons:
        renamed = {}
        for email in person.emails:
            fresh, n = email, 1
            while gmail_canonical(fresh) in mailboxes:
                n += 1
                local, _, domain = email.partition("@")
                fresh = f"{local}{n}@{domain}"
            mailboxes.add(gmail_canonical(fresh))
            renamed[email] = fresh
        person.emails = [renamed[e] for e in person.emails]
        for account in (a for accounts in person.accounts.values() for a in accounts):
            account.email = renamed.get(account.email, account.email)
            fresh, n = account.screen_name, 1
            while (account.platform, fresh) in handles:
                n += 1
                fresh = f"{account.screen_name}{n}"
            handles.add((account.platform, fresh))
            account.screen_name = fresh


def _trap_ip(rng: random.Random, kind: str, taken: set[str]) -> str:
    net = ipaddress.ip_network(ref.TRAP_BLOCKS[kind])
    while True:
        ip = str(net.network_address + rng.randrange(1, net.num_addresses - 1))
        if ip not in taken:
            taken.add(ip)
            return ip


def _shared_ips(rng: random.Random, pools: Pools, plans: list[ReportPlan]) -> list[dict]:
    """Addresses many different people used at nearby times: they must not make them one person."""
    nl = sorted((p for p in plans if not p.person.abroad), key=lambda p: p.incident_at)
    times = [p.incident_at for p in nl]
    traps: list[dict] = []
    taken: set[str] = set()
    if len({p.person.pid for p in nl}) < 2:
        return traps  # a trap needs two different people in the Netherlands
    for _ in range(max(2, len(plans) // 300)):
        kind = rng.choices(("cgnat", "university_nat", "public_wifi"), weights=(50, 25, 25))[0]
        anchor = rng.choice(nl)
        for window in (3, 10, 30):
            lo = bisect.bisect_left(times, anchor.incident_at - timedelta(days=window))
            hi = bisect.bisect_right(times, anchor.incident_at + timedelta(days=window))
            by_person = {p.person.pid: p for p in nl[lo:hi]}
            if len(by_person) >= 2:
                break
        if len(by_person) < 2:
            continue
        candidates = sorted(by_person.values(), key=lambda p: p.index)
        if kind == "university_nat":
            students = [p for p in candidates if 18 <= p.person.age_on(p.incident_at.date()) <= 26]
            candidates = students if len(students) >= 2 else candidates
        chosen = rng.sample(candidates, min(len(candidates), rng.randint(2, 8)))
        ip = _trap_ip(rng, kind, taken)
        for p in chosen:
            at = p.incident_at - timedelta(seconds=rng.randint(60, 6 * 3600))
            p.trap_uses.append(TrapUse(ip, kind, at, rng.randint(1024, 65535) if kind == "cgnat" else None))
        traps.append({"ip": ip, "kind": kind, "person_ids": sorted({p.person.pid for p in chosen})})
    return traps


def _external_ids(rng: random.Random, plans: list[ReportPlan]) -> None:
    """CyberTipline numbers rise with time; other senders number per year."""
    ncmec = 120_000_000
    per_source: dict[tuple[str, int], int] = {}
    seen: dict[tuple[str, str, str], list[str]] = {}
    for p in plans:
        year = p.reported_at.year
        if p.channel in ("xml", "xml_siblings"):
            ncmec += rng.randint(1, 400)
            p.external_id = str(ncmec)
            key = (p.person.pid, p.platform, p.account.user_id)
            earlier = seen.setdefault(key, [])
            if earlier and not p.unidentified and rng.random() < 0.5:
                p.prior_ids = tuple(earlier[-3:])
            earlier.append(p.external_id)
            continue
        prefix = ref.JSON_SOURCES[p.source]["prefix"] if p.channel == "json" else "ICCAM"
        number = per_source.get((prefix, year), 0) + rng.randint(1, 30)
        per_source[(prefix, year)] = number
        p.external_id = f"{prefix}-{year}-{number:06d}"
