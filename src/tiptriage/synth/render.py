"""Rendering one planned report: the ParsedReport its channel writes, and the truth about it.

What each channel can carry shapes the report so that `parse(write(report)) == report`:
Identifiers come in IDENTIFIER_KINDS order (as every reader returns them). CyberTipline XML
numbers person blocks p1.., r1.., v1.. in that order, an account the platform associates with a
block right after it (p1a1), carries one platform per person block and `verified` only on e-mail
and phone; without tiptriage's extension (the default: only what NCMEC's schema defines) it
carries no file action, no report date, one reported person who holds every file, and whether a
file went anywhere is written as NCMEC writes it (synth/ncmec.py). tiptriage JSON carries no
incidents, details, platform or associated accounts (a second account of the person is a second
reported block, p2); the CSV bulk list carries one reported person with at most one identifier of
each kind and a single IP event, no recipients, addresses, device ids, upload times or report date.
JSON and CSV state each file's action.

The truth is read from the written report (synth/truth.py), as an analyst reads it; what the
plan intended but the report does not show never reaches it. Facts about the person's other
reports come from their plans, and each rendered report is checked against its plan.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from tiptriage.hashtypes import MD5, SHA1
from tiptriage.intake.domain import (
    CLASSIFICATIONS, Address, Identifier, IpEvent, ParsedReport, ReportedFile, ReportedPerson,
)
from tiptriage.synth import ncmec
from tiptriage.synth import reference as ref
from tiptriage.synth.media import KnownMedia, fresh_hashes, known_hash, known_hashes
from tiptriage.synth.noise import (
    age_at, birth_date_view, email_variant, family_name_variant, phone_format, short_form, typo,
)
from tiptriage.synth.people import Account, Person, device_type, make_email, screen_name
from tiptriage.synth.plan import ReportPlan, World
from tiptriage.synth.truth import DISTRIBUTED, UNDETERMINED, ReportFacts, contact_risk, distribution, travel

FORMATS = {"xml": "cybertip-xml", "xml_siblings": "cybertip-xml", "json": "tiptriage-json", "csv": "csv"}
FILE_COUNT_BUCKETS = ((1, 1), (2, 3), (4, 8), (9, 25), (26, 60))
FILE_COUNT_CUM_WEIGHTS = (45, 70, 88, 97, 100)
CSV_DISTRIBUTING = ("upload", "public_post")
VICTIM_ANNOTATIONS = frozenset({"enticement", "sextortion"})
RISK_ANNOTATIONS = frozenset(ref.CONTACT_RISK_ANNOTATIONS)
CONTACT_EMAIL_DOMAIN = "postvak.example"  # recipients' mailboxes: never one of a reported person


@dataclass
class Rendered:
    report: ParsedReport
    persons: dict[str, str]  # person block ref -> person_id
    files: dict[str, dict]  # file ref -> {status, distribution, media, match}
    facts: ReportFacts
    # Write IP events of type Unknown without <eventName> (the schema leaves it out; it reads as Unknown).
    quiet_events: bool = False


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
    def __init__(self, seed: int, world: World, pool: list[KnownMedia], *, extensions: bool = False):
        self.seed = seed
        self.world = world
        self.extensions = extensions  # NCMEC reports carry tiptriage's <action> extension
        self.pertinent = [m for m in pool if m.pertinent]
        self.non_pertinent = [m for m in pool if m.category == 0]
        self._contact_accounts: dict[tuple[str, str], Account] = {}
        self.peers: dict[str, list[tuple[Person, Account]]] = {}
        for person in world.persons:
            for platform, accounts in person.accounts.items():
                self.peers.setdefault(platform, []).append((person, accounts[0]))
        self.plans_of: dict[str, list[ReportPlan]] = {}
        for p in world.plans:
            self.plans_of.setdefault(p.person.pid, []).append(p)

    def render(self, plan: ReportPlan) -> Rendered:
        rng = random.Random(f"{self.seed}/report/{plan.index}")
        day = plan.incident_at.date()
        xml = plan.ncmec
        if xml:
            annotations, enticement = ncmec.annotations(rng, plan)
        else:
            annotations = self._own_annotations(rng, plan)
            enticement = "enticement" in annotations
        reported = self._reported_blocks(rng, plan)
        statuses = self._statuses(rng, plan)
        actions = self._actions(rng, plan, statuses)
        story = ncmec.story(rng, plan, statuses, actions) if xml else None
        named = story.recipients if story else any(a in ("send", "share") for a in actions)
        recipients = self._recipients(rng, plan) if named else []
        victims = []
        if (enticement or "sextortion" in annotations) and plan.channel != "csv" and rng.random() < 0.6:
            victims = [(self._contact(rng, minor=True), "v1")]
        recipient_blocks = [self._recipient_block(rng, plan, who, r) for who, r in recipients]
        persons = tuple(reported) + tuple(recipient_blocks)
        person_ids = {p.ref: plan.person.pid for p in reported} | {r: who.pid for who, r in recipients}
        for who, v in victims:
            persons += (self._victim_block(rng, plan, who, v),)
            person_ids[v] = who.pid
            if xml and rng.random() < 0.2:
                parent = self._contact(rng, minor=False)
                persons += (ncmec.guardian(parent, f"{v}a1"),)
                person_ids[f"{v}a1"] = parent.pid
        recipient_refs = tuple(r for _, r in recipients)
        meme = bool(xml and ncmec.batched(rng, plan, statuses))
        files, file_truth = [], {}
        for n, (status, action) in enumerate(zip(statuses, actions, strict=True), 1):
            owner = "p2" if plan.extra_account and not xml and rng.random() < 0.3 else "p1"
            public = story.public[n - 1] if story else None
            file, truth = self._file(rng, plan, n, status, action, owner, recipient_refs, public, meme)
            files.append(file)
            file_truth[file.ref] = truth
        incidents = ncmec.incident(rng, plan, story, [f.file_name for f in files], recipient_blocks,
                                   plan.person.home_ips) if story else ()
        report = ParsedReport(
            source=plan.source, external_id=plan.external_id, format=FORMATS[plan.channel],
            incident_type=self._incident_type(rng, plan, enticement), incident_at=plan.incident_at,
            reported_at=None if plan.channel == "csv" or (xml and not self.extensions) else plan.reported_at,
            reporter=self._reporter(plan), annotations=tuple(sorted(annotations)), persons=persons,
            files=tuple(files), platform=plan.platform if xml else None,
            escalation=ncmec.escalation(rng, plan) if xml else None,
            batched=ref.BATCHED_MEME if meme else None, incidents=incidents,
            reporter_contact=ncmec.reporter_contact(rng, plan) if xml else (),
            law_enforcement=ncmec.law_enforcement(rng, plan) if xml else ())
        minors_reached = any(who.age_on(day) < 18 for who, _ in recipients)
        quiet = xml and rng.random() < 0.5 and any(
            e.event == "Unknown" for e in [e for p in persons for e in p.ip_events] +
            [e for i in incidents for e in i.ip_events])
        return Rendered(report, person_ids, file_truth, self._facts(plan, report, file_truth, minors_reached),
                        quiet)

    # --- report level ---------------------------------------------------------------------------

    def _own_annotations(self, rng: random.Random, plan: ReportPlan) -> list[str]:
        """Report annotations in tiptriage's words (JSON, CSV)."""
        if plan.contact_risk and not plan.contact_by_minor_recipient:
            return rng.sample(ref.OWN_RISK_ANNOTATIONS, rng.choice((1, 1, 2)))
        young = plan.person.age_on(plan.incident_at.date()) < 18
        if rng.random() < (0.15 if young else 0.03):
            return [rng.choice(ref.BENIGN_REPORT_ANNOTATIONS)]
        return []

    @staticmethod
    def _incident_type(rng: random.Random, plan: ReportPlan, enticement: bool) -> str:
        if enticement:
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
        how = travel(report, ref.PLATFORMS)
        for f in report.files:
            files[f.ref]["distribution"] = distribution(f, how)
        counted = [f for f in files.values() if f["status"] != "non_pertinent"]
        distributed = any(f["distribution"] == DISTRIBUTED for f in counted)
        undetermined = not distributed and any(f["distribution"] == UNDETERMINED for f in counted)
        if (distributed, undetermined) != (plan.shows_distribution(self.extensions),
                                           plan.shows_undetermined(self.extensions)):
            raise AssertionError(f"report {plan.external_id} was written as distributed={distributed}, "
                                 f"undetermined={undetermined}, not as planned")
        others = [p for p in self.plans_of[plan.person.pid] if p is not plan]
        statuses = {f["status"] for f in files.values()}
        reported = [p for p in report.persons if p.role == "reported"]
        return ReportFacts(
            escalated=report.escalation is not None,
            distributed=distributed,
            undetermined=undetermined,
            distributed_elsewhere=any(p.shows_distribution(self.extensions) for p in others),
            new_material_elsewhere=any(p.new_material for p in others),
            new_material="new" in statuses,
            known_only="known" in statuses and "new" not in statuses,
            unrated="unrated" in statuses,
            minor=plan.person.age_on(plan.incident_at.date()) < 18,
            contact_risk=contact_risk(report, minors_reached, RISK_ANNOTATIONS),
            identified=any(p.given_name or p.family_name or p.addresses
                           or any(i.kind in ("email", "phone") for i in p.identifiers) for p in reported),
            in_jurisdiction=not plan.person.abroad,
            re_report_after_warning=plan.after_warning is not None,
        )

    # --- persons --------------------------------------------------------------------------------

    def _reported_blocks(self, rng: random.Random, plan: ReportPlan) -> list[ReportedPerson]:
        xml = plan.ncmec
        if plan.unidentified:
            country, location, proxy = ncmec.location(rng, plan) if xml else (None, (), None)
            return [ReportedPerson("p1", ip_events=self._ip_events(rng, plan, proxy), estimated_country=country,
                                   details=location)]
        blocks = [self._reported(rng, plan, "p1", plan.account, main=True)]
        if not xml:
            if plan.extra_account is not None:
                blocks.append(self._reported(rng, plan, "p2", plan.extra_account, main=False))
            return blocks
        # NCMEC: one reported person; another account of theirs is an associated account.
        associated = []
        if plan.extra_account is not None:
            associated.append(ReportedPerson(
                "", "associated", identifiers=self._account_ids(rng, plan, plan.extra_account, 1.0),
                details=(("@type", "Linked"),)))
        if rng.random() < 0.02:
            person = plan.person
            associated.append(ReportedPerson(
                "", "associated", person.given, person.family,
                identifiers=(Identifier("email", rng.choice(person.emails)),), details=(("@type", "Billing"),)))
        return blocks + [ReportedPerson(f"p1a{n}", a.role, a.given_name, a.family_name, identifiers=a.identifiers,
                                        details=a.details) for n, a in enumerate(associated, 1)]

    def _account_ids(self, rng: random.Random, plan: ReportPlan, account: Account, share: float) -> tuple:
        platform = plan.platform if not plan.ncmec or rng.random() < 0.9 else None  # espService left out
        ids = []
        if rng.random() < share:
            ids.append(Identifier("screen_name", account.screen_name, None, platform))
        if rng.random() < share:
            ids.append(Identifier("esp_user_id", account.user_id, None, platform))
        if plan.channel != "csv" and rng.random() < 0.3:
            ids.append(Identifier("device_id", account.device_id, None, device_type(account.device_id)))
        return tuple(ids)

    def _reported(self, rng: random.Random, plan: ReportPlan, ref_: str, account: Account,
                  main: bool) -> ReportedPerson:
        person, day, channel = plan.person, plan.incident_at.date(), plan.channel
        csv, xml = channel == "csv", plan.ncmec
        given, family = _name_view(rng, person) if main else (None, None)
        dob, age = _dob_view(rng, person.dob, day) if main else (None, None)
        emails = self._emails(rng, person, account, csv)
        phones = [phone_format(person.phone, rng)] if main and person.phone and rng.random() < 0.35 else []
        addresses = ()
        if main and not csv and rng.random() < (0.2 if xml else 0.5):
            addresses = (_address_view(rng, person, day),)
        if main and not (given or family or emails or phones or addresses):
            emails = [account.email or person.emails[0]]  # an identified report names the person somehow
        ids = [self._contact_id(rng, plan, "email", e) for e in emails]
        ids += [self._contact_id(rng, plan, "phone", p) for p in phones]
        ids += self._account_ids(rng, plan, account, 0.9 if xml or not main else 0.6)
        country, details, proxy = (ncmec.location(rng, plan) if xml else (None, (), None))
        if xml:
            details = ncmec.account_details(rng, plan, account.screen_name) + details
        return ReportedPerson(ref_, "reported", given, family, dob, age, tuple(ids), addresses,
                              self._ip_events(rng, plan, proxy), country, plan.prior_ids if main else (), details)

    @staticmethod
    def _contact_id(rng: random.Random, plan: ReportPlan, kind: str, value: str) -> Identifier:
        if plan.channel == "csv":
            return Identifier(kind, value)
        verified = rng.choice((True, True, False, None))
        at = None
        if verified and plan.ncmec and rng.random() < 0.4:
            at = plan.incident_at - timedelta(days=rng.randint(30, 2000), seconds=rng.randrange(86400))
        return Identifier(kind, value, verified, None, at)

    @staticmethod
    def _emails(rng: random.Random, person: Person, account: Account, csv: bool) -> list[str]:
        emails = []
        if account.email and rng.random() < 0.55:
            emails.append(email_variant(account.email, rng) if rng.random() < 0.4 else account.email)
        others = [e for e in person.emails if e != account.email]
        if others and rng.random() < 0.15 and not (csv and emails):
            emails.append(rng.choice(others))  # a new address at another provider
        return emails

    def _ip_events(self, rng: random.Random, plan: ReportPlan, proxy: IpEvent | None = None) -> tuple[IpEvent, ...]:
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
            event = rng.choice(("Login", "Login", "Upload", "Registration", "Other", "Unknown"))
            flag = False if plan.ncmec and rng.random() < 0.1 else None
            events.append(IpEvent(rng.choice(person.home_ips), event, at,
                                  rng.randint(1024, 65535) if rng.random() < 0.2 else None, flag))
        events.extend(IpEvent(u.ip, "Login", u.at, u.port) for u in plan.trap_uses)
        if proxy is not None:
            events.append(proxy)
        return tuple(sorted(events, key=lambda e: e.at))

    def _contact(self, rng: random.Random, *, minor: bool) -> Person:
        return rng.choice(self.world.contacts_minor if minor else self.world.contacts_adult)

    def _contact_account(self, person: Person, platform: str) -> Account:
        """A recipient's account: the same for every report that names them (its own seeded Random)."""
        key = (person.pid, platform)
        if key not in self._contact_accounts:
            rng = random.Random(f"{self.seed}/contact/{person.pid}/{platform}")
            digits = rng.randint(9, 12)
            handle, user_id = screen_name(rng, person), str(rng.randrange(10 ** (digits - 1), 10**digits))
            email = make_email(rng, person.call_name, person.family, person.dob.year, CONTACT_EMAIL_DOMAIN)
            self._contact_accounts[key] = Account(platform, handle, user_id, person.devices[0], email)
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
        if ref.PLATFORMS[plan.platform] == "email" and account.email:
            ids = (Identifier("email", account.email),) + ids
        details = ncmec.recipient_details(rng, who) if plan.ncmec else ()
        return ReportedPerson(ref_, "recipient", given, family, dob, shown_age, ids, details=details)

    def _victim_block(self, rng: random.Random, plan: ReportPlan, who: Person, ref_: str) -> ReportedPerson:
        account = self._account_of(who, plan.platform)
        ids = (Identifier("screen_name", account.screen_name, None, plan.platform),)
        age = who.age_on(plan.incident_at.date())
        if not plan.ncmec:
            return ReportedPerson(ref_, "victim", age=age, identifiers=ids)
        given = who.call_name if rng.random() < 0.3 else None
        return ReportedPerson(ref_, "victim", given, age=age, identifiers=ids, details=ncmec.victim_details(rng))

    # --- files ----------------------------------------------------------------------------------

    @staticmethod
    def _statuses(rng: random.Random, plan: ReportPlan) -> list[str]:
        if plan.no_files:
            return []
        bucket = rng.choices(FILE_COUNT_BUCKETS, cum_weights=FILE_COUNT_CUM_WEIGHTS)[0]
        n = rng.randint(*bucket)
        if plan.non_pertinent_only:
            return ["non_pertinent"] * n
        special = (["new"] * rng.randint(1, 3) if plan.new_material else []) + (
            ["unrated"] * rng.randint(1, 2) if plan.unrated else []) + (["non_pertinent"] if plan.non_pertinent else [])
        spreads = plan.distributed or plan.hidden_distribution or plan.undetermined
        needs_known = plan.warning_profile or not special or (spreads and not plan.new_material)
        n = max(n, len(special) + needs_known)
        statuses = special + ["known"] * (n - len(special))
        rng.shuffle(statuses)
        return statuses

    @staticmethod
    def _actions(rng: random.Random, plan: ReportPlan, statuses: list[str]) -> list[str]:
        """What the person really did with each file; written only where the channel states it."""
        kind = ref.PLATFORMS[plan.platform]
        keep = ref.KEEPING_BY_KIND[kind]
        actions = [rng.choice(keep) for _ in statuses]
        if not (plan.distributed or plan.hidden_distribution):
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
              recipients: tuple[str, ...], public: bool | None, meme: bool) -> tuple[ReportedFile, dict]:
        truth: dict = {"status": status}
        classification, category = None, None
        young = plan.person.age_on(plan.incident_at.date()) < 18
        annotations: tuple[str, ...] = ()
        if status == "known":
            media = _skewed(rng, self.pertinent)
            hashes, match = known_hashes(media, rng)
            truth |= {"media": media.mid, "match": match}
            classification = media.classification if rng.random() < 0.35 else None
            category = media.category
            if young and rng.random() < 0.1:
                annotations = (rng.choice(ref.OWN_FILE_ANNOTATIONS),)
        elif status == "non_pertinent":
            media = _skewed(rng, self.non_pertinent)
            hashes = (known_hash(media, MD5), known_hash(media, SHA1))
            truth |= {"media": media.mid, "match": MD5.name}
        elif status == "new":
            hashes = fresh_hashes(rng, sha256=0.3, pdq=0.6)
            classification = rng.choices(CLASSIFICATIONS, cum_weights=(30, 55, 80, 100))[0]
            if classification.startswith("A") and rng.random() < 0.15:
                annotations = ("infant",)
        else:
            hashes = fresh_hashes(rng, sha256=0.1, pdq=0.4, sha1=0.5)
        csv = plan.channel == "csv"
        uploaded_at = None if csv else plan.incident_at - timedelta(seconds=rng.randint(0, 72 * 3600))
        file = ReportedFile(
            ref=f"f{n:03d}", file_name=self._file_name(rng, plan), person_ref=owner, action=action,
            recipients=recipients if action in ("send", "share") else (), uploaded_at=uploaded_at,
            viewed_by_esp=rng.choice((True, True, True, False, None)),
            publicly_available=True if action == "public_post" else rng.choice((False, None)),
            classification=classification, annotations=annotations, hashes=hashes)
        if plan.ncmec:  # NCMEC's elements; the action only with tiptriage's extension
            stated = action if self.extensions else None
            file = ReportedFile(
                ref=file.ref, file_name=file.file_name, person_ref="p1", action=stated,
                recipients=recipients if stated in ("send", "share") else (), uploaded_at=uploaded_at,
                viewed_by_esp=file.viewed_by_esp, publicly_available=public, classification=classification,
                annotations=ncmec.file_annotations(rng, status, category, young, meme, classification),
                hashes=hashes, relevance=ncmec.relevance(rng, status),
                details=ncmec.file_details(rng, plan, uploaded_at, self._file_name(rng, plan), plan.person.home_ips))
        return file, truth

    @staticmethod
    def _file_name(rng: random.Random, plan: ReportPlan) -> str:
        day = plan.incident_at.date()
        pattern = rng.choice(ref.FILE_NAME_PATTERNS)
        return pattern.format(n=rng.randint(1, 99999 if "06d" in pattern else 9999), k=rng.randint(1, 40),
                              y=day.year, m=day.month, d=day.day)
