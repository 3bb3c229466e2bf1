"""The writing choices of an NCMEC CyberTipline report: what the schema's elements say, and how.

NCMEC's schema has no per-file action and ties no file to a person. Whether a file went anywhere
is told by the rest of the report, so the plan's intention is written with those elements
(`story`): a distributor's report names the recipients of a chat or an e-mail, calls files
publicly available, or is a peer-to-peer, newsgroup or own-web-page incident; a report of stored
material comes from a private storage service with `publiclyAvailable` false and names no one;
an undetermined report is a chat without a named recipient, a game, a mail, or storage that does
not say whether the files were public. The truth is read back from what was written
(synth/truth.py), never from the plan.

Everything else here is the variety the schema allows and real reports show: display names,
profile URLs, disabled accounts, estimated locations (the pseudo-country A1 of an anonymous
proxy), the reporter's contact person, police already involved, batched viral reports, original
file names, upload addresses and file relevance. Everything returned is a domain value the
CyberTipline writer turns into schema elements, in the orders the reader gives them back.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tiptriage.intake.domain import DISTRIBUTING_ACTIONS, Details, Incident, IpEvent, ReportedPerson
from tiptriage.synth import reference as ref
from tiptriage.synth.people import Person
from tiptriage.synth.plan import ReportPlan

PROXY_NETWORK = ipaddress.ip_network(ref.PROXY_BLOCK)
PSEUDO_LOCATIONS = ("A1", "A1", "A1", "A1", "O1")
REPORTER_STAFF = (("Sam", "Verbeek"), ("Noor", "Hendriks"), ("Alex", "Kramer"), ("Robin", "de Wit"),
                  ("Jamie", "Postma"), ("Kim", "Smits"))
THIRD_PARTY_HOSTS = ("imgdrop.example", "fileshack.example", "pastepix.example")


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@dataclass
class Story:
    """How the report tells where its files went: recipients, an incident, public flags per file."""

    recipients: bool
    incident: str | None  # one of INCIDENT_KINDS, or no internetDetails at all
    public: list[bool | None]
    third_party: bool | None = None  # a web page incident: hosted by a third party


def story(rng: random.Random, plan: ReportPlan, statuses: list[str], actions: list[str]) -> Story:
    """The writing that makes an analyst read what the plan shows (truth.py, `distribution`).

    `actions` (what the person really did, written only with the extension) are adjusted where a
    file is called publicly available, so that the two variants never contradict each other.
    """
    kind = ref.PLATFORMS[plan.platform]
    if plan.no_files:
        incident = {"gaming": "online_gaming"}.get(kind, "chat_im" if rng.random() < 0.7 else None)
        return Story(False, incident, [])
    if plan.distributed:
        found = _distributing(rng, plan, kind, actions)
    elif plan.undetermined:
        found = _undetermined(rng, kind, statuses)
    else:  # stored: a private storage service, nothing public, no one named
        found = Story(False, None, [False] * len(statuses))
    for i, public in enumerate(found.public):
        if public and actions[i] not in ref.PUBLIC_ACTIONS:
            actions[i] = rng.choice(tuple(ref.PUBLIC_ACTIONS & set(ref.DISTRIBUTING_BY_KIND[kind])) or ("upload",))
    return found


def _distributing(rng: random.Random, plan: ReportPlan, kind: str, actions: list[str]) -> Story:
    spread = [a in DISTRIBUTING_ACTIONS for a in actions]
    quiet = [rng.choice((False, None)) for _ in actions]
    if plan.contact_by_minor_recipient or kind in ("chat", "email", "gaming"):
        return Story(True, _conversation(rng, kind, 0.8), quiet)
    if kind == "p2p":
        return Story(False, "peer2peer", quiet)
    if kind == "other":
        return Story(False, "newsgroup", quiet)
    how = rng.choices(("public", "web", "recipients"), weights={
        "social": (40, 30, 30), "video": (60, 40, 0), "storage": (50, 20, 30)}[kind])[0]
    if how == "recipients":  # a direct message, or a folder shared with a named account
        return Story(True, _conversation(rng, kind, 0.5) if kind == "social" else None, quiet)
    if how == "public":
        public = [True if s else q for s, q in zip(spread, quiet, strict=True)]
        return Story(False, "web_page" if rng.random() < 0.3 else None, public)
    # the platform's own page with the files on it: every file is out, some also called public
    public = [True if s and rng.random() < 0.5 else q for s, q in zip(spread, quiet, strict=True)]
    return Story(False, "web_page", public, third_party=rng.choice((False, None)))


def _conversation(rng: random.Random, kind: str, chat_share: float) -> str | None:
    """The incident of a conversation on this kind of service (a chat may be reported without one)."""
    if kind == "email":
        return "email"
    if kind == "gaming":
        return "online_gaming"
    return "chat_im" if kind in ("chat", "social") and rng.random() < chat_share else None


def _undetermined(rng: random.Random, kind: str, statuses: list[str]) -> Story:
    counted = [i for i, s in enumerate(statuses) if s != "non_pertinent"]
    public: list[bool | None] = [rng.choice((False, None)) for _ in statuses]
    if kind == "storage":  # a counted file on which the platform says nothing; a meme may be public
        public[rng.choice(counted)] = None
        public = [True if s == "non_pertinent" and rng.random() < 0.3 else p
                  for s, p in zip(statuses, public, strict=True)]
        return Story(False, "web_page" if rng.random() < 0.2 else None, public, third_party=True)
    if kind == "chat":
        incident = rng.choices(("chat_im", "cell_phone", None), weights=(60, 15, 25))[0]
    elif kind in ("email", "gaming"):
        incident = _conversation(rng, kind, 0)
    else:  # social, video: at most a link to content another company hosts
        incident = "web_page" if rng.random() < 0.4 else None
    return Story(False, incident, public, third_party=True if incident == "web_page" else None)


def incident(rng: random.Random, plan: ReportPlan, found: Story, file_names: list[str],
             recipients: list[ReportedPerson], home_ips: list[str]) -> tuple[Incident, ...]:
    """The internetDetails the story asks for, with the details real reports carry."""
    kind, host, day = found.incident, ref.PLATFORM_HOSTS[plan.platform], plan.incident_at
    if kind is None:
        return ()
    details: list[tuple[str, str]] = []
    events: tuple[IpEvent, ...] = ()
    third_party = None
    if kind == "chat_im":
        if rng.random() < 0.8:
            details.append(("chatClient", plan.platform))
        if rng.random() < 0.3:
            details.append(("chatRoomName", rng.choice(ref.CHAT_ROOMS)))
    elif kind == "email":
        details += [("emailAddress", i.value) for p in recipients for i in p.identifiers if i.kind == "email"]
    elif kind == "online_gaming":
        game, console = rng.choice(ref.GAMES)
        details += [("gameName", game)] + ([("console", console)] if console else [])
    elif kind == "cell_phone":
        if plan.person.phone and rng.random() < 0.5:
            details.append(("phoneNumber", plan.person.phone))
    elif kind == "web_page":
        third_party = found.third_party
        site = rng.choice(THIRD_PARTY_HOSTS) if third_party else host
        details.append(("url", f"https://{site}/{_token(rng)}"))
    elif kind == "peer2peer":
        details.append(("client", rng.choice(ref.P2P_CLIENTS)))
        events = tuple(sorted((IpEvent(rng.choice(home_ips), rng.choice(("Other", "Unknown", "Upload")),
                                       day - timedelta(seconds=rng.randint(0, 5 * 86400)),
                                       rng.randint(1024, 65535) if rng.random() < 0.6 else None)
                               for _ in range(rng.randint(1, 3))), key=lambda e: e.at))
        if file_names:
            details.append(("fileNames", "; ".join(file_names[:5])))
    elif kind == "newsgroup":
        details.append(("name", rng.choice(ref.NEWSGROUPS)))
    return (Incident(kind, tuple(details), third_party, events),)


def _token(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(10))


# --- report level ---------------------------------------------------------------------------------

def annotations(rng: random.Random, plan: ReportPlan) -> tuple[list[str], bool]:
    """Report annotations (NCMEC's element names) and whether the incident is online enticement."""
    young = plan.person.age_on(plan.incident_at.date()) < 18
    if plan.contact_risk and not plan.contact_by_minor_recipient:
        risks = rng.sample(ref.NCMEC_RISK_ANNOTATIONS + ("enticement",), rng.choice((1, 1, 2)))
        notes = [r for r in risks if r != "enticement"]
        return notes + (["minorToMinorInteraction"] if young and rng.random() < 0.3 else []), "enticement" in risks
    if young and rng.random() < (0.5 if plan.contact_by_minor_recipient else 0.15):
        return [ref.NCMEC_BENIGN_ANNOTATIONS["young"]], False
    if not young and rng.random() < 0.03:
        return [ref.NCMEC_BENIGN_ANNOTATIONS["adult"]], False
    return [], False


def escalation(rng: random.Random, plan: ReportPlan) -> str | None:
    return rng.choice(ref.ESCALATIONS) if plan.escalated else None


def reporter_contact(rng: random.Random, plan: ReportPlan) -> Details:
    host = ref.PLATFORM_HOSTS[plan.platform]
    out: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        first, last = rng.choice(REPORTER_STAFF)
        out += [("reportingPerson/firstName", first), ("reportingPerson/lastName", last),
                ("reportingPerson/email", f"safety@{host}")]
    if rng.random() < 0.2:
        first, last = rng.choice(REPORTER_STAFF)
        out += [("contactPerson/firstName", first), ("contactPerson/lastName", last),
                ("contactPerson/email", f"legal@{host}")]
    if rng.random() < 0.3:
        out.append(("legalURL", f"https://{host}/legal/law-enforcement"))
    return tuple(out)


def law_enforcement(rng: random.Random, plan: ReportPlan) -> Details:
    if rng.random() >= 0.015:
        return ()
    case = f"{plan.incident_at.year}-{rng.randrange(10**5):05d}"
    out = [("agencyName", rng.choice(ref.AGENCIES)), ("caseNumber", case)]
    return tuple(out + ([("reportedToLe", "true")] if rng.random() < 0.3 else []))


def batched(rng: random.Random, plan: ReportPlan, statuses: list[str]) -> str | None:
    """A batch of reports about one viral meme, sent as one: young people forwarding known files."""
    young = plan.person.age_on(plan.incident_at.date()) < 18
    if young and statuses and set(statuses) == {"known"} and rng.random() < 0.08:
        return ref.BATCHED_MEME
    return None


# --- persons ------------------------------------------------------------------------------------

def account_details(rng: random.Random, plan: ReportPlan, screen_name: str) -> Details:
    """Account elements analysts read (displayName, profileUrl, a disabled account), reader's order."""
    out: list[tuple[str, str]] = []
    if rng.random() < 0.3:
        out.append(("displayName", rng.choice((plan.person.call_name, screen_name.replace("_", " ").title()))))
    if rng.random() < 0.25:
        out.append(("profileUrl", f"https://{ref.PLATFORM_HOSTS[plan.platform]}/u/{screen_name}"))
    roll = rng.random()
    disabled = iso(plan.incident_at + timedelta(seconds=rng.randint(600, 5 * 86400)))
    if roll < 0.1:
        out += [("accountTemporarilyDisabled@disabledDate", disabled), ("accountTemporarilyDisabled", "true")]
    elif roll < 0.4:
        out += ([("accountPermanentlyDisabled@disabledDate", disabled)] if rng.random() < 0.7 else []) + [
            ("accountPermanentlyDisabled", "true")]
    return tuple(out)


def location(rng: random.Random, plan: ReportPlan) -> tuple[str | None, Details, IpEvent | None]:
    """The platform's estimated location, and an address it flags as a possible proxy.

    A person seen through a VPN exit is placed by the pseudo-country A1 (or O1) or not at all;
    the exit is an address of its own per report, in a country where no reported person lives.
    """
    person, roll = plan.person, rng.random()
    proxy = None
    if roll < 0.05:
        exit_ip = str(PROXY_NETWORK.network_address + 1 + plan.index % (PROXY_NETWORK.num_addresses - 2))
        proxy = IpEvent(exit_ip, rng.choice(("Login", "Unknown")),
                        plan.incident_at - timedelta(seconds=rng.randint(60, 3 * 86400)), None, True)
        if rng.random() < 0.6:
            return None, (("estimatedLocation/countryCode", rng.choice(PSEUDO_LOCATIONS)),), proxy
    if rng.random() >= 0.85:
        return None, (), proxy
    details: Details = ()
    if rng.random() < 0.25:
        details = (("estimatedLocation/city", person.home_on(plan.incident_at.date()).city),)
    return person.country, details, proxy


def recipient_details(rng: random.Random, who: Person) -> Details:
    return (("displayName", who.call_name),) if rng.random() < 0.2 else ()


def victim_details(rng: random.Random) -> Details:
    return (("schoolName", rng.choice(ref.SCHOOL_NAMES)),) if rng.random() < 0.4 else ()


def guardian(who: Person, ref_: str) -> ReportedPerson:
    """A victim's parent or guardian, as the platform knows the account: a name, never a link."""
    return ReportedPerson(ref_, "associated", who.call_name, who.family,
                          details=(("@type", "Parent/Guardian"),))


# --- files --------------------------------------------------------------------------------------

def file_annotations(rng: random.Random, status: str, category: int | None, young: bool,
                     meme: bool, classification: str | None) -> tuple[str, ...]:
    """fileAnnotations with NCMEC's names: every flag turns up, on the files it fits."""
    if meme:
        return tuple(sorted({"potentialMeme"} | ({"viral"} if rng.random() < 0.5 else set())))
    if status == "known":
        if category == 3 and rng.random() < 0.6:
            return ("animeDrawingVirtualHentai",)
        if young and rng.random() < 0.1:
            return (rng.choice(("potentialMeme", "viral")),)
        if classification and classification.startswith("A") and rng.random() < 0.05:
            return ("infant",)
    elif status == "new" and rng.random() < 0.35:
        return tuple(sorted(set(rng.sample(ref.NCMEC_NEW_FILE_ANNOTATIONS, rng.choice((1, 1, 2))))))
    return ()


def relevance(rng: random.Random, status: str) -> str | None:
    if status == "non_pertinent":
        return "Supplemental Reported" if rng.random() < 0.4 else None
    return "Reported" if rng.random() < 0.2 else None


def file_details(rng: random.Random, plan: ReportPlan, uploaded_at: datetime | None, original: str,
                 home_ips: list[str]) -> Details:
    """originalFileName, locationOfFile, exifViewedByEsp and the upload's ipCaptureEvent, reader's order.

    The upload event always names its event (never Unknown), so an omitted eventName elsewhere in
    the document can be told apart (see render.Rendered.quiet_events)."""
    out: list[tuple[str, str]] = []
    if rng.random() < 0.3:
        out.append(("originalFileName", original))
    if rng.random() < 0.15:
        out.append(("locationOfFile", f"https://{ref.PLATFORM_HOSTS[plan.platform]}/f/{_token(rng)}"))
    if rng.random() < 0.2:
        out.append(("exifViewedByEsp", rng.choice(("true", "false"))))
    if home_ips and rng.random() < 0.3:
        out += [("ipCaptureEvent/ipAddress", rng.choice(home_ips)), ("ipCaptureEvent/eventName", "Upload")]
        if uploaded_at is not None:
            out.append(("ipCaptureEvent/dateTime", iso(uploaded_at)))
    return tuple(out)
