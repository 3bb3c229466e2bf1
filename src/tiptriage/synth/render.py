"""Rendering one planned report: the ParsedReport its channel writes, and the truth about it.

What each channel can carry shapes the report so that `parse(write(report)) == report`:
Identifiers come in IDENTIFIER_KINDS order (as every reader returns them). CyberTipline XML
numbers person blocks p1.., r1.., v1.. in that order, carries one platform per person block and
`verified` only on e-mail and phone; the CSV bulk list carries one reported person
with at most one identifier of each kind and a single IP event, no recipients, addresses, device
ids, upload times or report date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from tiptriage.intake.domain import (
    CLASSIFICATIONS, DISTRIBUTING_ACTIONS, Address, FileHash, Identifier, IpEvent, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.synth import reference as ref
from tiptriage.synth.media import KnownMedia, fresh_hashes, known_hashes
from tiptriage.synth.noise import (
    age_at, birth_date_view, email_variant, family_name_variant, phone_format, short_form, typo,
)
from tiptriage.synth.people import Account, Person, screen_name
from tiptriage.synth.plan import ReportPlan, World
from tiptriage.synth.truth import ReportFacts

FORMATS = {"xml": "cybertip-xml", "xml_siblings": "cybertip-xml", "json": "tiptriage-json", "csv": "csv"}
FILE_COUNT_BUCKETS = ((1, 1), (2, 3), (4, 8), (9, 25), (26, 60))
FILE_COUNT_CUM_WEIGHTS = (45, 70, 88, 97, 100)
CSV_DISTRIBUTING = ("upload", "public_post")
VICTIM_ANNOTATIONS = frozenset({"enticement", "sextortion"})


@dataclass
class Rendered:
    report: ParsedReport
    persons: dict[str, str]  # person block ref -> person_id
    files: dict[str, dict]  # file ref -> {status, media, match}
    facts: ReportFacts


def _skewed(rng: random.Random, items: list):
    """Popular items first: a few known files turn up in many reports."""
    return items[int(len(items) * rng.random() ** 2.5)]


def _name_view(rng: random.Random, person: Person) -> tuple[str | None, str | None]:
    roll = rng.random()
    if roll < 0.22:
        return None, None
    given = person.call_name if rng.random() < 0.7 else person.given
    if given == person.given and rng.random() < 0.15:
        given = short_form(given, rng) or given
    family: str | None = person.family
    if roll < 0.30:
        if rng.random() < 0.5:
            given = typo(given, rng)
        else:
            family = typo(person.family, rng)
    elif roll < 0.35:
        return person.family, given  # given and family name swapped
    elif roll < 0.42:
        family = family_name_variant(person.family, rng)
    elif roll < 0.45:
        given = given[0] + "."
    elif roll < 0.50:
        family = None
    return given, family


def _dob_view(rng: random.Random, dob: date, day: date) -> tuple[date | None, int | None]:
    """Date of birth and age as reported: exact, defaulted, swapped, age only, or nothing."""
    age = age_at(dob, day)
    roll = rng.random() * (0.8 if age < 18 else 1.0)  # platforms more often know a young user's age
    if roll < 0.38:
        return dob, None
    if roll < 0.46:
        return birth_date_view(dob, rng), None
    if roll < 0.62:
        slip = rng.choice((-1, 1)) if rng.random() < 0.1 else 0
        return None, age + slip if (age + slip < 18) == (age < 18) else age
    if roll < 0.72:
        return dob, age
    return None, None


def _address_view(rng: random.Random, person: Person, day: date) -> Address:
    home = person.home_on(day)
    postcode = home.postcode
    if home.country == "NL":
        postcode = rng.choice((postcode, postcode, postcode.replace(" ", ""), postcode.lower()))
    city = home.city.upper() if rng.random() < 0.1 else home.city
    return Address(home.street, postcode, city, home.country)


class Renderer:
    def __init__(self, seed: int, world: World, pool: list[KnownMedia]):
        self.seed = seed
        self.world = world
        self.pertinent = [m for m in pool if m.pertinent]
        self.non_pertinent = [m for m in pool if m.category == 0]
        self._contact_accounts: dict[tuple[str, str], Account] = {}
        self.peers: dict[str, list[tuple[Person, Account]]] = {}
        for person in world.persons:
            for platform, accounts in person.accounts.items():
                self.peers.setdefault(platform, []).append((person, accounts[0]))

    def render(self, plan: ReportPlan) -> Rendered:
        rng = random.Random(f"{self.seed}/report/{plan.index}")
        day = plan.incident_at.date()
        annotations = self._annotations(rng, plan)
        reported = self._reported_blocks(rng, plan)
        statuses = self._statuses(rng, plan)
        actions = self._actions(rng, plan, statuses)
        recipients, victims = [], []
        if any(a in ("send", "share") for a in actions):
            recipients = self._recipients(rng, plan)
        if VICTIM_ANNOTATIONS & set(annotations) and plan.channel != "csv" and rng.random() < 0.6:
            victims = [(self._contact(rng, minor=True), "v1")]
        persons = tuple(reported) + tuple(
            self._recipient_block(rng, plan, who, r) for who, r in recipients) + tuple(
            self._victim_block(plan, who, v) for who, v in victims)
        recipient_refs = tuple(r for _, r in recipients)
        files, file_truth = [], {}
        for n, (status, action) in enumerate(zip(statuses, actions, strict=True), 1):
            owner = "p2" if plan.extra_account and rng.random() < 0.3 else "p1"
            file, truth = self._file(rng, plan, n, status, action, owner, recipient_refs)
            files.append(file)
            file_truth[file.ref] = truth
        report = ParsedReport(
            source=plan.source, external_id=plan.external_id, format=FORMATS[plan.channel],
            incident_type=self._incident_type(rng, plan, annotations), incident_at=plan.incident_at,
            reported_at=None if plan.channel == "csv" else plan.reported_at, reporter=self._reporter(plan),
            annotations=tuple(sorted(annotations)), persons=persons, files=tuple(files))
        person_ids = {p.ref: plan.person.pid for p in reported}
        person_ids |= {r: who.pid for who, r in recipients} | {v: who.pid for who, v in victims}
        minors_reached = any(who.age_on(day) < 18 for who, _ in recipients)
        return Rendered(report, person_ids, file_truth,
                        self._facts(plan, report, file_truth, minors_reached))

    # --- report level ---------------------------------------------------------------------------

    def _annotations(self, rng: random.Random, plan: ReportPlan) -> list[str]:
        if plan.contact_risk and not plan.contact_by_minor_recipient:
            return rng.sample(ref.CONTACT_RISK_ANNOTATIONS, rng.choice((1, 1, 2)))
        young = plan.person.age_on(plan.incident_at.date()) < 18
        if rng.random() < (0.15 if young else 0.03):
            return [rng.choice(ref.BENIGN_REPORT_ANNOTATIONS)]
        return []

    @staticmethod
    def _incident_type(rng: random.Random, plan: ReportPlan, annotations: list[str]) -> str:
        if VICTIM_ANNOTATIONS & set(annotations):
            return ref.ENTICEMENT_INCIDENT
        if plan.contact_by_minor_recipient and rng.random() < 0.5:
            return ref.UNSOLICITED_INCIDENT
        return ref.NCMEC_INCIDENT

    @staticmethod
    def _reporter(plan: ReportPlan) -> str:
        if plan.channel == "json":
            return ref.JSON_SOURCES[plan.source]["reporter"]
        return ref.CSV_REPORTER if plan.channel == "csv" else plan.platform

    def _facts(self, plan: ReportPlan, report: ParsedReport, files: dict[str, dict],
               minors_reached: bool) -> ReportFacts:
        statuses = {f["status"] for f in files.values()}
        pertinent = {ref_ for ref_, f in files.items() if f["status"] in ("known", "new")}
        reported = [p for p in report.persons if p.role == "reported"]
        return ReportFacts(
            distributed=any(f.action in DISTRIBUTING_ACTIONS and f.ref in pertinent for f in report.files),
            new_material="new" in statuses,
            known_only="known" in statuses and "new" not in statuses,
            unrated="unrated" in statuses,
            minor=plan.person.age_on(plan.incident_at.date()) < 18,
            contact_risk=bool(set(report.annotations) & set(ref.CONTACT_RISK_ANNOTATIONS)) or minors_reached,
            identified=any(p.given_name or p.family_name or p.addresses
                           or any(i.kind in ("email", "phone") for i in p.identifiers) for p in reported),
            in_jurisdiction=not plan.person.abroad,
            re_report_after_warning=plan.after_warning is not None,
        )

    # --- persons --------------------------------------------------------------------------------

    def _reported_blocks(self, rng: random.Random, plan: ReportPlan) -> list[ReportedPerson]:
        if plan.unidentified:
            return [ReportedPerson("p1", ip_events=self._ip_events(rng, plan),
                                   estimated_country=self._estimated_country(rng, plan))]
        blocks = [self._reported(rng, plan, "p1", plan.account, main=True)]
        if plan.extra_account is not None:
            blocks.append(self._reported(rng, plan, "p2", plan.extra_account, main=False))
        return blocks

    def _reported(self, rng: random.Random, plan: ReportPlan, ref_: str, account: Account,
                  main: bool) -> ReportedPerson:
        person, day, channel = plan.person, plan.incident_at.date(), plan.channel
        csv = channel == "csv"
        given, family = _name_view(rng, person) if main else (None, None)
        dob, age = _dob_view(rng, person.dob, day) if main else (None, None)
        emails = self._emails(rng, person, account, csv)
        phones = [phone_format(person.phone, rng)] if main and person.phone and rng.random() < 0.35 else []
        addresses = ()
        if main and not csv and rng.random() < (0.2 if channel.startswith("xml") else 0.5):
            addresses = (_address_view(rng, person, day),)
        if main and not (given or family or emails or phones or addresses):
            emails = [account.email or person.emails[0]]  # an identified report names the person somehow
        verified = (lambda: None) if csv else (lambda: rng.choice((True, True, False, None)))
        ids = [Identifier("email", e, verified()) for e in emails] + [Identifier("phone", p, verified()) for p in phones]
        platform_share = 0.9 if channel.startswith("xml") or not main else 0.6
        if rng.random() < platform_share:
            ids.append(Identifier("screen_name", account.screen_name, None, plan.platform))
        if rng.random() < platform_share:
            ids.append(Identifier("esp_user_id", account.user_id, None, plan.platform))
        if not csv and rng.random() < 0.3:
            ids.append(Identifier("device_id", account.device_id))
        return ReportedPerson(ref_, "reported", given, family, dob, age, tuple(ids), addresses,
                              self._ip_events(rng, plan), self._estimated_country(rng, plan),
                              plan.prior_ids if main else ())

    @staticmethod
    def _emails(rng: random.Random, person: Person, account: Account, csv: bool) -> list[str]:
        emails = []
        if account.email and rng.random() < 0.55:
            emails.append(email_variant(account.email, rng) if rng.random() < 0.4 else account.email)
        others = [e for e in person.emails if e != account.email]
        if others and rng.random() < 0.15 and not (csv and emails):
            emails.append(rng.choice(others))  # a new address at another provider
        return emails

    def _ip_events(self, rng: random.Random, plan: ReportPlan) -> tuple[IpEvent, ...]:
        person = plan.person
        if plan.channel == "csv":
            if plan.trap_uses:
                use = plan.trap_uses[0]
                return (IpEvent(use.ip, "Upload", use.at),)
            at = plan.incident_at - timedelta(seconds=rng.randint(0, 3600))
            return (IpEvent(rng.choice(person.home_ips), "Upload", at),)
        events = []
        for _ in range(rng.randint(1, 3)):
            at = plan.incident_at - timedelta(seconds=rng.randint(0, 20 * 86400))
            event = rng.choice(("Login", "Login", "Upload", "Registration", "Other"))
            events.append(IpEvent(rng.choice(person.home_ips), event, at,
                                  rng.randint(1024, 65535) if rng.random() < 0.2 else None))
        events.extend(IpEvent(u.ip, "Login", u.at, u.port) for u in plan.trap_uses)
        return tuple(sorted(events, key=lambda e: e.at))

    @staticmethod
    def _estimated_country(rng: random.Random, plan: ReportPlan) -> str | None:
        if plan.channel.startswith("xml") and rng.random() < 0.85:
            return plan.person.country
        return None

    def _contact(self, rng: random.Random, *, minor: bool) -> Person:
        return rng.choice(self.world.contacts_minor if minor else self.world.contacts_adult)

    def _contact_account(self, person: Person, platform: str) -> Account:
        """A recipient's account: the same for every report that names them (its own seeded Random)."""
        key = (person.pid, platform)
        if key not in self._contact_accounts:
            rng = random.Random(f"{self.seed}/contact/{person.pid}/{platform}")
            digits = rng.randint(9, 12)
            self._contact_accounts[key] = Account(platform, screen_name(rng, person),
                                                  str(rng.randrange(10 ** (digits - 1), 10**digits)),
                                                  person.devices[0], None)
        return self._contact_accounts[key]

    def _recipients(self, rng: random.Random, plan: ReportPlan) -> list[tuple[Person, str]]:
        """Who received the files: a minor first when that is the report's contact risk, else adults."""
        day = plan.incident_at.date()
        chosen: list[Person] = [self._contact(rng, minor=True)] if plan.contact_by_minor_recipient else []
        peers = self.peers.get(plan.platform, ())
        for _ in range(rng.randint(1, 3) - len(chosen)):
            peer = rng.choice(peers)[0] if peers and rng.random() < 0.15 else None
            usable = peer is not None and peer is not plan.person and peer.age_on(day) >= 18
            chosen.append(peer if usable else self._contact(rng, minor=False))
        unique = list({p.pid: p for p in chosen}.values())
        return [(p, f"r{n}") for n, p in enumerate(unique, 1)]

    def _account_of(self, person: Person, platform: str) -> Account:
        own = person.accounts.get(platform)
        return own[0] if own else self._contact_account(person, platform)

    def _recipient_block(self, rng: random.Random, plan: ReportPlan, who: Person, ref_: str) -> ReportedPerson:
        day = plan.incident_at.date()
        account = self._account_of(who, plan.platform)
        age = who.age_on(day)
        given = who.call_name if rng.random() < 0.2 else None
        family = who.family if given and rng.random() < 0.5 else None
        dob, shown_age = None, None
        if age < 18 or rng.random() < 0.25:  # a minor recipient's age is what makes the risk visible
            dob, shown_age = (who.dob, None) if age < 18 and rng.random() < 0.3 else (None, age)
        ids = (Identifier("screen_name", account.screen_name, None, plan.platform),
               Identifier("esp_user_id", account.user_id, None, plan.platform))
        return ReportedPerson(ref_, "recipient", given, family, dob, shown_age, ids)

    def _victim_block(self, plan: ReportPlan, who: Person, ref_: str) -> ReportedPerson:
        account = self._account_of(who, plan.platform)
        return ReportedPerson(ref_, "victim", age=who.age_on(plan.incident_at.date()),
                              identifiers=(Identifier("screen_name", account.screen_name, None, plan.platform),))

    # --- files ----------------------------------------------------------------------------------

    @staticmethod
    def _statuses(rng: random.Random, plan: ReportPlan) -> list[str]:
        bucket = rng.choices(FILE_COUNT_BUCKETS, cum_weights=FILE_COUNT_CUM_WEIGHTS)[0]
        n = rng.randint(*bucket)
        if plan.non_pertinent_only:
            return ["non_pertinent"] * n
        special = (["new"] * rng.randint(1, 3) if plan.new_material else []) + (
            ["unrated"] * rng.randint(1, 2) if plan.unrated else []) + (["non_pertinent"] if plan.non_pertinent else [])
        needs_known = plan.warning_profile or not special or (plan.distributed and not plan.new_material)
        n = max(n, len(special) + needs_known)
        statuses = special + ["known"] * (n - len(special))
        rng.shuffle(statuses)
        return statuses

    @staticmethod
    def _actions(rng: random.Random, plan: ReportPlan, statuses: list[str]) -> list[str]:
        kind = ref.PLATFORMS[plan.platform]
        keep = ref.KEEPING_BY_KIND[kind]
        actions = [rng.choice(keep) for _ in statuses]
        if not plan.distributed:
            return actions
        spread = ref.DISTRIBUTING_BY_KIND[kind]
        if plan.channel == "csv":
            spread = tuple(a for a in spread if a in CSV_DISTRIBUTING) or ("upload",)
        first = rng.choice([i for i, s in enumerate(statuses) if s in ("known", "new")])
        for i in range(len(statuses)):
            if i == first or rng.random() < 0.5:
                actions[i] = rng.choice(spread)
        if plan.contact_by_minor_recipient:
            actions[first] = "send" if "send" in spread else "share"
        return actions

    def _file(self, rng: random.Random, plan: ReportPlan, n: int, status: str, action: str, owner: str,
              recipients: tuple[str, ...]) -> tuple[ReportedFile, dict]:
        truth: dict = {"status": status}
        classification = None
        annotations: tuple[str, ...] = ()
        if status == "known":
            media = _skewed(rng, self.pertinent)
            hashes, match = known_hashes(media, rng)
            truth |= {"media": media.mid, "match": match}
            classification = media.classification if rng.random() < 0.35 else None
            if plan.person.age_on(plan.incident_at.date()) < 18 and rng.random() < 0.1:
                annotations = (rng.choice(ref.BENIGN_REPORT_ANNOTATIONS),)
        elif status == "non_pertinent":
            media = _skewed(rng, self.non_pertinent)
            hashes = (FileHash("md5", media.md5), FileHash("sha1", media.sha1))
            truth |= {"media": media.mid, "match": "md5"}
        elif status == "new":
            hashes = fresh_hashes(rng, sha256=0.3, pdq=0.6)
            classification = rng.choices(CLASSIFICATIONS, cum_weights=(30, 55, 80, 100))[0]
            if classification.startswith("A") and rng.random() < 0.15:
                annotations = ("infant",)
        else:
            hashes = fresh_hashes(rng, sha256=0.1, pdq=0.4, sha1=0.5)
        csv = plan.channel == "csv"
        file = ReportedFile(
            ref=f"f{n:03d}", file_name=self._file_name(rng, plan), person_ref=owner, action=action,
            recipients=recipients if action in ("send", "share") else (),
            uploaded_at=None if csv else plan.incident_at - timedelta(seconds=rng.randint(0, 72 * 3600)),
            viewed_by_esp=rng.choice((True, True, True, False, None)),
            publicly_available=True if action == "public_post" else rng.choice((False, None)),
            classification=classification, annotations=annotations, hashes=hashes)
        return file, truth

    @staticmethod
    def _file_name(rng: random.Random, plan: ReportPlan) -> str:
        day = plan.incident_at.date()
        pattern = rng.choice(ref.FILE_NAME_PATTERNS)
        return pattern.format(n=rng.randint(1, 99999 if "06d" in pattern else 9999), k=rng.randint(1, 40),
                              y=day.year, m=day.month, d=day.day)
