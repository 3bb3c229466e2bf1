"""A generated follow-up cohort taken through the product's own path: the set stored, matched,
linked and triaged (tests/triage/synthset.py), the cohort's warnings proposed, approved by a second
person and delivered on their day, and its searches and capacity refusals decided through
`flows.decide` on the day the generator chose (the triage service's clock is set to that day for
each decision: the store records when an analyst decided, and these analysts decided in the past).
Used by the evaluation test, the statistics tests and the browser test's screens."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from triage import synthset

from tiptriage import flows
from tiptriage.accounts.actor import Actor
from tiptriage.synth.generator import generate
from tiptriage.synth.plan import SynthOptions
from tiptriage.triage import service as triage

ANALYST = Actor("synthetic-analyst", roles=("analyst",))
JUSTIFICATION = {"searched": "Gedeeld materiaal: doorzoeking in de actieweek.",
                 "no_action": "Geen capaciteit: geen actie."}
OUTCOME = {"searched": "CRIMINAL_CASE", "no_action": "NO_ACTION"}


def make_set(folder: Path, *, seed: int, reports: int, hazards: dict[str, float], followup: int,
             extensions: bool = False) -> dict:
    """The set and its truth (`_folder`: where it is). With `extensions` NCMEC reports say when they
    were reported, so the months of the statistics are the reports' own, not the day of ingest."""
    options = SynthOptions(rereport_hazards=tuple(hazards.items()), followup=followup)
    generate(folder, reports=reports, seed=seed, options=options, extensions=extensions)
    return synthset.load_truth(folder) | {"_folder": str(folder)}


def environment(truth: dict, folder: Path) -> pytest.MonkeyPatch:
    """The set's IP and services tables in the environment (undo the patch when done)."""
    from tiptriage import config

    patch = pytest.MonkeyPatch()
    for name, value in synthset.environment(truth, folder).items():
        patch.setenv(name, value)
    patch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(folder / "pdq"))
    config.get_settings.cache_clear()
    return patch


def answer_reviews(session, truth: dict) -> Counter:
    """The possible matches linkage left for an analyst, answered as one who checked (the provider's
    subscriber data, the register) would: confirmed when it is the same real person, else rejected.
    Through `flows.shape_subjects`, so the reports they touch are triaged again at once."""
    from sqlalchemy import select

    from tiptriage.subjects.errors import SubjectError
    from tiptriage.subjects.membership import current_members
    from tiptriage.subjects.models import SubjectReview
    who = _real_persons(session, truth)
    answered: Counter = Counter()
    for review in session.execute(select(SubjectReview).where(SubjectReview.status == "open")
                                  .order_by(SubjectReview.id)).scalars().all():
        if review.status != "open":
            continue  # settled by an earlier answer
        ours = {who.get(review.reported_person_id)} if review.reported_person_id else \
            {who.get(m.reported_person_id) for m in current_members(session, review.subject_id)}
        theirs = {who.get(m.reported_person_id) for m in current_members(session, review.candidate_subject_id)}
        change = "confirm" if ours & theirs - {None} else "reject"
        try:
            flows.shape_subjects(session, change, actor=ANALYST, reason="Abonneegegevens van de provider.",
                                 review_id=review.id)
        except (SubjectError, LookupError):
            answered["stale"] += 1
            continue
        answered[change] += 1
    session.commit()
    return answered


def _real_persons(session, truth: dict) -> dict[int, str]:
    """Each stored reported person of the set mapped to the synthetic person behind it (a store
    may hold other reports too: the web test's)."""
    from sqlalchemy import select

    from tiptriage.intake.models import Report, ReportedPersonRow

    blocks = {(r["source"], r["external_id"], ref): pid for r in truth["reports"] for ref, pid in r["persons"].items()}
    rows = session.execute(select(ReportedPersonRow.id, Report.source, Report.external_id, ReportedPersonRow.ref)
                           .join(Report).where(ReportedPersonRow.role == "reported")).all()
    return {pid: blocks[(source, ext, ref)] for pid, source, ext, ref in rows if (source, ext, ref) in blocks}


def record_interventions(session, truth: dict) -> None:
    """Store the set, then the cohort's interventions as a unit records them."""
    synthset.store(session, Path(truth["_folder"]))
    synthset.register_warnings(session, truth)  # the cohort's warnings are the set's only ones
    ids = synthset.report_ids(session)
    patch = pytest.MonkeyPatch()
    try:
        for p in truth["followup"]["persons"]:
            if p["group"] not in OUTCOME:
                continue
            day = datetime.combine(date.fromisoformat(p["origin"]), time(12), UTC)
            patch.setattr(triage, "utcnow", lambda day=day: day)
            flows.decide(session, ids[(p["report"]["source"], p["report"]["external_id"])], actor=ANALYST,
                         justification=JUSTIFICATION[p["group"]], outcome=OUTCOME[p["group"]])
        session.commit()
    finally:
        patch.undo()
