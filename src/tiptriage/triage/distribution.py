"""Did the person distribute a file? Judged from what the report carries, file by file.

NCMEC's reporting schema has no per-file action and no link from a file to a person, so whether a
file was distributed follows from the rest of the report, as a careful analyst reads it. In order,
the first that applies decides:

0. an analyst established it (`tiptriage distribution`: from the platform, an investigation or
   the case file) → that finding (`finding`);
1. the source states the action (tiptriage's `<action>`, JSON, CSV): upload, send, share or a
   public post is distribution, and so is a file the source says was public or went to someone;
   download and store otherwise are not (`action`);
2. the file was publicly available → distributed (`publicly_available`);
3. the report names an intended recipient → distributed (`recipients`): NCMEC ties no file to a
   person, so every file of a report with a recipient counts as sent;
4. the incident was peer-to-peer sharing, a newsgroup, or a web page the reporter hosts itself →
   distributed (`incident`);
5. a private storage service (the services table) with publiclyAvailable explicitly false, no
   recipient and none of the above → not distributed: stored (`private_storage`);
6. anything else — a chat, an e-mail, a phone or game without a named recipient, storage without
   a word on public availability, nothing at all — is **undetermined**: never a WARNING, an
   analyst answers the question first (`no_evidence`).

Which services are private storage is configuration (CSV `service,kind`, TIPTRIAGE_SERVICES_FILE;
without one, the packaged services.csv of well-known storage services).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from tiptriage.i18n import N_, refusal
from tiptriage.intake.domain import DISTRIBUTING_ACTIONS

DISTRIBUTED, NOT_DISTRIBUTED, UNDETERMINED = N_("distributed"), N_("not_distributed"), N_("undetermined")
SHARING_INCIDENTS = frozenset({"peer2peer", "newsgroup"})
SERVICE_KINDS = ("storage", "chat", "social", "video", "email", "p2p", "gaming", "other")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the report as a whole says about how its files travelled."""

    recipients: int = 0  # intended recipients the report names
    incidents: tuple[str, ...] = ()  # INCIDENT_KINDS of its internetDetails
    own_web_page: bool = False  # a web page incident the reporter hosts (not third-party content)
    storage: bool = False  # the service used is a private storage service


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str  # DISTRIBUTED, NOT_DISTRIBUTED, UNDETERMINED
    basis: str  # action, publicly_available, recipients, incident, private_storage, no_evidence


def judge(action: str | None, publicly_available: bool | None, evidence: Evidence,
          file_recipients: int = 0, finding: bool | None = None) -> Verdict:
    """One file's verdict; see the module docstring for the order."""
    if finding is not None:
        return Verdict(DISTRIBUTED if finding else NOT_DISTRIBUTED, N_("finding"))
    if action is not None:
        spread = action in DISTRIBUTING_ACTIONS or file_recipients > 0 or bool(publicly_available)
        return Verdict(DISTRIBUTED if spread else NOT_DISTRIBUTED, N_("action"))
    if publicly_available:
        return Verdict(DISTRIBUTED, N_("publicly_available"))
    if evidence.recipients or file_recipients:
        return Verdict(DISTRIBUTED, N_("recipients"))
    if evidence.own_web_page or SHARING_INCIDENTS.intersection(evidence.incidents):
        return Verdict(DISTRIBUTED, N_("incident"))
    if evidence.storage and publicly_available is False:
        return Verdict(NOT_DISTRIBUTED, N_("private_storage"))
    return Verdict(UNDETERMINED, N_("no_evidence"))


class Services:
    """Service name → kind, matched without regard to case and spacing."""

    def __init__(self, kinds: dict[str, str]):
        self.kinds = {_fold(name): kind for name, kind in kinds.items()}

    def kind(self, name: str | None) -> str | None:
        return self.kinds.get(_fold(name)) if name else None

    def is_storage(self, *names: str | None) -> bool:
        return any(self.kind(n) == "storage" for n in names)


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


@cache
def load_services(path: str | None) -> Services:
    """The services table: CSV `service,kind`; lines starting with # are comments."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("tiptriage.triage").joinpath("services.csv").read_text(encoding="utf-8")
    kinds = {}
    for n, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or row[0].startswith("#") or row[0].strip().lower() == "service":
            continue
        if len(row) < 2 or row[1].strip().lower() not in SERVICE_KINDS:
            raise refusal(ValueError, "{path}, line {n}: expected 'service,kind' with kind one of {kinds}",
                          path=path or "services.csv", n=n, kinds=", ".join(SERVICE_KINDS))
        kinds[row[0].strip()] = row[1].strip().lower()
    return Services(kinds)
