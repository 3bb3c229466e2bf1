"""A synthetic data set taken through the whole path, and triage compared with its ground truth.

Used by the accuracy test and by bench/triage.py. The truth's historic warnings are registered
through the registry's service functions (proposed, approved by a second person, delivered), as
the product has no import for them. The synthetic world's IP allocation (truth.json `ip_blocks`)
becomes the IP → country table a deployment would take from a GeoIP source, and its platforms'
kinds (truth.json `platforms`) the services table a deployment configures: `environment` writes
both and names them in the variables triage reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import Actor
from tiptriage import pipeline
from tiptriage.db import chunks
from tiptriage.intake.models import Report
from tiptriage.media import service as media
from tiptriage.registry import service as registry
from tiptriage.subjects import linking
from tiptriage.subjects.identity import Identity, identify
from tiptriage.synth import tables
from tiptriage.synth.truth import ReportFacts, expected_outcome_nl_2023
from tiptriage.triage.models import TriageState

ACTOR = Actor("synthetic-load")
REPORTED_REF = re.compile(r"p[0-9]+")


def environment(truth: dict, folder: Path) -> dict[str, str]:
    """The tables a deployment would configure for this data set, written to `folder`, as the
    environment variables that name them: set them all wherever triage runs on the set."""
    return tables.write(truth, folder)


def load_truth(out: Path) -> dict:
    return json.loads((out / "truth.json").read_text(encoding="utf-8"))


def store(session: Session, out: Path) -> list[int]:
    """Banks, then the reports (stored and matched), then linkage of every reported person."""
    media.import_bank(session, out / "banks" / "vics.json", name="vics", fmt="vics", actor=ACTOR)
    media.import_bank(session, out / "banks" / "known.csv", name="known", fmt="csv", actor=ACTOR,
                      category_map={**dict.fromkeys(("A1", "A2", "B1", "B2"), "child_abuse"), "NP": "non_pertinent"})
    stored = pipeline.process(session, [out / "reports"], actor=ACTOR)
    ids = sorted(stored.intake.report_ids)
    link(session, ids)
    return ids


def link(session: Session, report_ids: list[int]) -> None:
    for part in chunks(report_ids, 500):
        linking.resolve_reports(session, part, actor=ACTOR)
        session.commit()


def report_ids(session: Session) -> dict[tuple[str, str], int]:
    """(source, external id) → the newest stored version's id."""
    rows = session.execute(select(Report.source, Report.external_id, Report.id).order_by(Report.version))
    return {(source, external_id): rid for source, external_id, rid in rows}


def register_warnings(session: Session, truth: dict) -> int:
    """The truth's historic warnings, through the registry; as docs/triage.md asks, the officer who
    delivered each one recorded whom they warned (`identify`: the person's official names and date
    of birth, checked against an identity document)."""
    ids = report_ids(session)
    refs = {(r["source"], r["external_id"]): r["persons"] for r in truth["reports"]}
    for w in truth["warnings"]:
        key = (w["report"]["source"], w["report"]["external_id"])
        rid = ids[key]
        warning = registry.propose(session, [rid], actor=Actor("synthetic-proposer"), unit=w["unit"],
                                   justification="Historic warning of the synthetic data set.")
        registry.approve(session, warning.id, actor=Actor("synthetic-approver"))
        registry.deliver(session, warning.id, actor=Actor("synthetic-approver"), on=date.fromisoformat(w["date"]),
                         officer="synthetic officer", unit=w["unit"], referral_offered=True)
        p = truth["persons"][w["person_id"]]
        who = Identity(p["given_name"], p["family_name"], date.fromisoformat(p["date_of_birth"]), country=p["country"])
        # The person's reported blocks (p1, p2 ...), not an account the platform associates with them (p1a1).
        own = [ref for ref, pid in refs[key].items() if pid == w["person_id"] and REPORTED_REF.fullmatch(ref)]
        for ref in own:
            identify(session, rid, who, source="investigation", reference=f"warning {warning.id}",
                     note="Identity document checked when the warning was delivered.", actor=Actor("synthetic-officer"),
                     person_ref=ref)
        session.commit()
    return len(truth["warnings"])


@dataclass
class Accuracy:
    total: int = 0
    equal: int = 0
    groups: dict[str, list[int]] = field(default_factory=dict)  # group → [equal, total]
    confusion: Counter = field(default_factory=Counter)  # (expected, got) for mismatches
    mismatches: list[dict] = field(default_factory=list)

    def share(self, group: str | None = None) -> float:
        equal, total = (self.equal, self.total) if group is None else self.groups.get(group, [0, 0])
        return equal / total if total else 1.0

    def as_dict(self) -> dict:
        return {"reports": self.total, "equal": self.equal, "share": round(self.share(), 5),
                "groups": {g: {"equal": e, "total": t, "share": round(e / t, 5) if t else None}
                           for g, (e, t) in sorted(self.groups.items())},
                "confusion": {f"{a} -> {b}": n for (a, b), n in self.confusion.most_common()}}


def compare(session: Session, truth: dict, identified: frozenset[int] = frozenset()) -> Accuracy:
    """Stored recommendations against the truth. `identified`: reports the unit has since identified
    (a report with only an IP address no longer): their expected outcome is the truth's rule with
    identified = true."""
    ids = report_ids(session)
    got = dict(session.execute(select(TriageState.report_id, TriageState.outcome)).all())
    acc = Accuracy()
    for r in truth["reports"]:
        rid = ids[(r["source"], r["external_id"])]
        if rid in identified and not r["facts"]["identified"]:
            facts = r["facts"] | {"identified": True}
            r = r | {"facts": facts, "outcome": expected_outcome_nl_2023(ReportFacts(**facts))}
        same = got.get(rid) == r["outcome"]
        acc.total += 1
        acc.equal += same
        for group in _groups(r):
            counts = acc.groups.setdefault(group, [0, 0])
            counts[0] += same
            counts[1] += 1
        if not same:
            acc.confusion[(r["outcome"], got.get(rid))] += 1
            acc.mismatches.append({"report_id": rid, "external_id": r["external_id"], "expected": r["outcome"],
                                   "got": got.get(rid), "truth_facts": r["facts"]})
    return acc


def _groups(r: dict) -> list[str]:
    facts = r["facts"]
    found = ["re_report_after_warning"] if facts.get("re_report_after_warning") else []
    found += [name for name in ("distributed", "new_material") if facts.get(name)]
    return found + [f"outcome:{r['outcome']}"]
