"""Triage benchmark: reports triaged per second, accuracy against the ground truth, re-triage time.

    .venv/bin/python bench/triage.py                      # 10k, 20k and 100k reports on SQLite
    .venv/bin/python bench/triage.py --sizes 2000         # a quick look
    .venv/bin/python bench/triage.py --sizes 20000 --variants schema extensions   # side by side

For each size N and variant it generates (once, cached under var/bench/triage-N[-ext]/) a synthetic
set of N reports — `schema`: NCMEC reports with only the elements NCMEC's schema defines (no per-file
action: distribution judged from what the report carries); `extensions`: the same plan with
tiptriage's `<action>` extension stating what was done with each file —,
stores it (ingest, hash matching against both synthetic banks), links every reported person to a
subject, registers the truth's historic warnings through the registry service (proposed, approved
by a second person, delivered), and then prints:
- reports/s for triaging every report (facts, policy, recommendations, alerts), linkage and
  matching already done; the times of the earlier stages for context;
- the share of reports whose recommended outcome equals the ground truth's, overall and for
  re-reports after a warning, distributors and new material, with the differences by cause;
- after a bank update that changes the status of 1% of all files: the retro-matching time and the
  time to re-triage the reports it queued;
- the agreement again after analysts have answered every open linkage review as the ground truth
  says, and again after they have checked the population register (the truth's date of birth) for
  every report recommended WARNING with the flag age_unknown, and again after they have identified
  the person behind every report NEEDS_IDENTIFICATION (`tiptriage identify`: the truth's names and
  date of birth, as a subscriber request and the register would give them) and answered the reviews
  that opens, and again after approvers have looked at the possible earlier warnings of every report
  recommended WARNING (as approval requires) and merged the subjects where the earlier warning was
  the same person's. Each run works on a copy of the prepared store (`prepared.db`), which these
  change. The historic warnings are registered with the warned person's identity recorded at
  delivery (`identify`), as docs/triage.md asks of the delivering officer.
Figures only: nothing here passes or fails. Measured on SQLite (the embedded default).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

from tiptriage.accounts.actor import Actor

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
SEED = 29

sys.path.insert(0, str(ROOT / "tests"))


def dataset(n: int, extensions: bool) -> Path:
    out = WORK / (f"triage-{n}-ext" if extensions else f"triage-{n}") / "set"
    if not (out / "truth.json").exists():
        from tiptriage.synth.generator import generate

        generate(out, reports=n, seed=SEED, extensions=extensions)
    return out


def prepare(n: int, extensions: bool):
    """A store with the set stored, matched and linked, and the warnings registered (cached)."""
    from triage import synthset

    out = dataset(n, extensions)
    folder = out.parent
    truth = synthset.load_truth(out)
    os.environ.update(synthset.environment(truth, folder))  # the IP -> country and services tables
    from tiptriage.db import make_engine, migrate, session_factory

    ready, pristine, work = folder / "prepared.json", folder / "prepared.db", folder / "bench.db"
    if not (ready.exists() and pristine.exists()):
        for stale in (ready, pristine, work):
            stale.unlink(missing_ok=True)
        shutil.rmtree(folder / "pdq-prepared", ignore_errors=True)
        _point_at(pristine, folder / "pdq-prepared")
        engine = make_engine(f"sqlite:///{pristine}")
        migrate(engine)
        with session_factory(engine)() as session:
            start = time.perf_counter()
            ids = synthset.store(session, out)
            stages = {"store_match_link_s": round(time.perf_counter() - start, 1), "reports": len(ids)}
            synthset.register_warnings(session, truth)
        engine.dispose()
        ready.write_text(json.dumps(stages))
    # Each run works on a copy: the bank update and the answered reviews change the store.
    with sqlite3.connect(pristine) as source, sqlite3.connect(work) as target:
        source.backup(target)
    shutil.rmtree(folder / "pdq", ignore_errors=True)
    if (folder / "pdq-prepared").exists():
        shutil.copytree(folder / "pdq-prepared", folder / "pdq")
    _point_at(work, folder / "pdq")
    engine = make_engine(f"sqlite:///{work}")
    migrate(engine)  # a store prepared before the latest migrations
    session = session_factory(engine)()
    return session, truth, json.loads(ready.read_text())


def _point_at(db: Path, pdq: Path) -> None:
    from tiptriage import config

    os.environ["TIPTRIAGE_DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["TIPTRIAGE_PDQ_INDEX_DIR"] = str(pdq)
    config.get_settings.cache_clear()  # each size has its own database, index and IP table


def triage_rate(session) -> tuple[float, dict]:
    from sqlalchemy import delete

    from tiptriage.registry.models import Alert
    from tiptriage.triage import service
    from tiptriage.triage.models import Recommendation, TriageState

    # Start from no recommendations, so every report is triaged and stored (the ingest case).
    session.execute(delete(Alert))
    session.execute(delete(TriageState))
    session.execute(delete(Recommendation))
    session.commit()
    start = time.perf_counter()
    summary = service.triage_all(session, actor=Actor("bench"))
    return time.perf_counter() - start, summary.as_dict()


def accuracy(session, truth, identified: frozenset[int] = frozenset()) -> dict:
    from triage import synthset

    acc = synthset.compare(session, truth, identified)
    doc = acc.as_dict()
    doc["causes"] = dict(Counter(_cause(session, m, truth) for m in acc.mismatches))
    return doc


def _cause(session, m: dict, truth: dict) -> str:
    from tiptriage.triage import service

    facts = service.report_triage(session, m["report_id"])["recommendation"]["facts"]
    t = m["truth_facts"]
    if t["re_report_after_warning"] and not facts["rereport_after_warning"]:
        return ("re-report: possible match only" if facts["possible_rereport_after_warning"]
                else "re-report: not linked to the warned subject")
    if facts["rereport_after_warning"] and not t["re_report_after_warning"]:
        return "escalated: linkage joined another person's warning"
    if facts["possible_rereport_after_warning"]:
        return "possible match with a warned subject (not the same person)"
    if facts["possible_distributor"]:
        return ("possible match with a distributing subject (the same person)"
                if t["distributed_elsewhere"] or t["new_material_elsewhere"]
                else "possible match with a distributing subject (not the same person)")
    if t["minor"] and facts["minor"] is None:
        return "minor: no age in any linked report"
    if t["minor"] != facts["minor"]:
        return "minor: date of birth reported wrongly"
    for fact in ("distributed_elsewhere", "new_material_elsewhere"):
        if t[fact] and not facts[fact]:
            return f"{fact}: the person's other report not linked"
        if facts[fact] and not t[fact]:
            return f"{fact}: linkage joined another person's report"
    return "other"


# What no WARNING may rest on, per the truth: (label, does the truth's report say so).
NEVER_WARNED = (
    ("a person who distributed in any report", lambda t: t["distributed"] or t["distributed_elsewhere"]),
    ("an escalated report", lambda t: t["escalated"]),
    ("a minor", lambda t: t["minor"]),
    ("a resident abroad", lambda t: not t["in_jurisdiction"]),
    ("an undetermined file", lambda t: t["undetermined"]),
)


def wrong_warnings(session, truth) -> dict[str, int]:
    """Reports recommended WARNING now whose truth forbids it, by reason (the issue's zero targets)."""
    from sqlalchemy import select

    from tiptriage.intake.models import Report
    from tiptriage.triage.models import TriageState

    facts = {(r["source"], r["external_id"]): r["facts"] for r in truth["reports"]}
    warned = session.execute(select(Report.source, Report.external_id).join(
        TriageState, TriageState.report_id == Report.id).where(TriageState.outcome == "WARNING")).all()
    return {label: sum(1 for key in warned if says(facts[tuple(key)])) for label, says in NEVER_WARNED}


def retriage_after_bank_update(session, share: float = 0.01) -> dict:
    """A bank now knows 1% of all files that were new or unrated: retro-match, then re-triage."""
    from sqlalchemy import func, select

    from tiptriage.intake.models import FileHashRow, FileRow
    from tiptriage.media import service as media
    from tiptriage.media.models import FileMatchState
    from tiptriage.triage import service

    total = session.execute(select(func.count()).select_from(FileRow)).scalar_one()
    wanted = max(1, round(total * share))
    rows = session.execute(select(FileHashRow.value).join(FileMatchState, FileMatchState.file_id == FileHashRow.file_id)
                           .where(FileMatchState.status.in_(("new", "unrated")), FileHashRow.hash_type == "md5")
                           .order_by(FileHashRow.file_id).limit(wanted)).scalars().all()
    path = WORK / "bank-update.csv"
    path.write_text("hash_type,hash,category\n" + "".join(f"md5,{h},child_abuse\n" for h in rows))
    start = time.perf_counter()
    result = media.import_bank(session, path, name=f"update-{time.time_ns()}", fmt="csv", actor=Actor("bench"))
    retro = time.perf_counter() - start
    queued = len(media.pending_retriage(session))
    start = time.perf_counter()
    summary = service.triage_pending(session, actor=Actor("bench"))
    return {"files": total, "files_changed": len(result.retro.changes) if result.retro else 0,
            "reports_queued": queued, "retro_match_s": round(retro, 2),
            "retriage_s": round(time.perf_counter() - start, 2), "retriaged": summary.triaged,
            "new_recommendations": summary.recommended}


def after_reviews(session, truth) -> dict:
    """Analysts answer every open linkage review as the truth says (confirm when both sides are one
    person, else reject), the affected reports are triaged again: the system with its humans."""
    from tiptriage.triage import service

    answered = answer_reviews(session, truth)
    service.triage_pending(session, actor=Actor("bench"))
    session.commit()
    return {"reviews": dict(answered), "accuracy": accuracy(session, truth)}


def answer_reviews(session, truth) -> Counter:
    from collections import defaultdict

    from tiptriage.subjects import membership, reviews
    from tiptriage.synth.truth import stored_person_ids

    person_of = stored_person_ids(session, truth)
    answered = Counter()
    for review in reviews.open_reviews(session, limit=10**7):
        if review.status != "open":  # superseded by an earlier answer in this loop
            continue
        members = membership.members_of(session, [review.subject_id, review.candidate_subject_id])
        left = [review.reported_person_id] if review.reported_person_id else members.get(review.subject_id, [])
        who = defaultdict(set)
        for side, persons in (("left", left), ("right", members.get(review.candidate_subject_id, []))):
            who[side] = {person_of[p] for p in persons if p in person_of}
        same = bool(who["left"] & who["right"])
        act = reviews.confirm_review if same else reviews.reject_review
        act(session, review.id, actor=Actor("bench-analyst"), reason="bench: answered from the ground truth")
        answered["confirmed" if same else "rejected"] += 1
        session.commit()
    return answered


def after_identifications(session, truth) -> dict:
    """Analysts answer every NEEDS_IDENTIFICATION as the subscriber request and the population
    register would: each reported person is identified as the truth's person (official names and
    date of birth, source BRP); the reviews linkage then opens are answered as above and the
    reports triaged again. An identified report's expected outcome is the truth's rule with
    identified = true (it is no longer a report with only an IP address)."""
    from sqlalchemy import select

    from tiptriage.triage import service
    from tiptriage.triage.models import TriageState

    identified = frozenset(session.execute(select(TriageState.report_id)
                                           .where(TriageState.outcome == "NEEDS_IDENTIFICATION")).scalars())
    start, decisions = time.perf_counter(), Counter()
    _identify_as_truth(session, truth, sorted(identified), source="BRP", decisions=decisions)
    seconds = time.perf_counter() - start
    answered = answer_reviews(session, truth)
    service.triage_pending(session, actor=Actor("bench"))
    session.commit()
    return {"reports": len(identified), "linkage": dict(decisions), "identify_s": round(seconds, 2),
            "reviews": dict(answered), "accuracy": accuracy(session, truth, identified), "identified": identified}


def after_register_checks(session, truth) -> dict:
    """Analysts check the population register for every report recommended WARNING with the flag
    age_unknown (the truth's date of birth of the person reported), as the flag asks; the reports
    of the subjects checked are then triaged again."""
    from datetime import date

    from sqlalchemy import select

    from tiptriage.intake.models import Report
    from tiptriage.triage import service
    from tiptriage.triage.models import Recommendation, TriageState

    born = {(r["source"], r["external_id"]): truth["persons"][r["person_id"]]["date_of_birth"]
            for r in truth["reports"]}
    rows = session.execute(select(TriageState.report_id, Report.source, Report.external_id, Recommendation.flags)
                           .join(Report, Report.id == TriageState.report_id)
                           .join(Recommendation, Recommendation.id == TriageState.recommendation_id)
                           .where(TriageState.outcome == "WARNING")).all()
    checked = [(rid, born[(source, external_id)]) for rid, source, external_id, flags in rows if "age_unknown" in flags]
    for rid, dob in checked:
        service.record_birth_date(session, rid, date.fromisoformat(dob), source="BRP", actor=Actor("bench-analyst"),
                                  note="bench: the ground truth's date of birth", retriage=False)
    start = time.perf_counter()
    summary = service.retriage_related(session, [rid for rid, _ in checked], actor=Actor("bench-analyst"),
                                       trigger="birth_date", reason="bench: register checks")
    return {"checked": len(checked), "retriaged": summary.triaged, "retriage_s": round(time.perf_counter() - start, 2),
            "by_outcome": summary.as_dict()["by_outcome"], "accuracy": accuracy(session, truth)}


def _warning_rows(session) -> list[tuple[int, dict]]:
    """(report, facts) of every report recommended WARNING now."""
    from sqlalchemy import select

    from tiptriage.triage.models import Recommendation, TriageState

    return session.execute(select(TriageState.report_id, Recommendation.facts).join(
        Recommendation, TriageState.recommendation_id == Recommendation.id)
        .where(TriageState.outcome == "WARNING")).all()


def _identify_as_truth(session, truth, report_ids: list[int], *, source: str, decisions: Counter | None = None) -> int:
    """Identify every reported person of these reports as the truth's person (official names, date
    of birth); returns how many persons were identified."""
    from datetime import date

    from sqlalchemy import select

    from tiptriage.intake.models import Report, ReportedPersonRow
    from tiptriage.subjects.identity import Identity, identify

    truth_of = {(r["source"], r["external_id"]): r for r in truth["reports"]}
    done = 0
    for part in [report_ids[i:i + 500] for i in range(0, len(report_ids), 500)]:
        rows = session.execute(select(Report.id, Report.source, Report.external_id, ReportedPersonRow.ref)
                               .join(ReportedPersonRow, ReportedPersonRow.report_id == Report.id)
                               .where(Report.id.in_(part), ReportedPersonRow.role == "reported")).all()
        for rid, src, external_id, ref in rows:
            p = truth["persons"][truth_of[(src, external_id)]["persons"][ref]]
            who = Identity(p["given_name"], p["family_name"], date.fromisoformat(p["date_of_birth"]),
                           country=p["country"])
            result = identify(session, rid, who, source=source, reference=f"bench-{rid}-{ref}",
                              actor=Actor("bench-analyst"), note="bench: the ground truth's person", person_ref=ref)
            if decisions is not None:
                decisions[result.decision] += 1
            session.commit()
            done += 1
    return done


def after_approval_checks(session, truth, identified: frozenset[int]) -> dict:
    """Before a warning is approved the approver sees the possible earlier warnings
    (registry/earlier.py: anything the subjects share, looser than linkage, and their names); where
    the truth says an earlier warning was given to the same person, the approver merges the two
    subjects (an analyst's merge, undone by split) instead of approving, and the reports are triaged
    again. Every report recommended WARNING is checked, as each would be before approval; one whose
    person no report names is identified first (approval refuses it until then), the reviews that
    opens answered."""
    from sqlalchemy import select

    from tiptriage.registry.earlier import _evidence, _warned_persons
    from tiptriage.registry.models import WarningReport
    from tiptriage.subjects import actions, membership
    from tiptriage.synth.truth import stored_person_ids
    from tiptriage.triage import service

    person_of = stored_person_ids(session, truth)
    warned = {}
    for warning_id, person in session.execute(select(WarningReport.warning_id, WarningReport.person_id)):
        warned.setdefault(warning_id, []).append(person)
    start, counts = time.perf_counter(), Counter()
    # Approval needs a name: whoever no report names is identified first (as in after_identifications).
    unnamed = [rid for rid, facts in _warning_rows(session) if not facts.get("named", True)]
    counts["identified first (no name known)"] = _identify_as_truth(session, truth, unnamed, source="provider")
    counts.update({f"reviews then {k}": n for k, n in answer_reviews(session, truth).items()})
    service.triage_pending(session, actor=Actor("bench"))
    session.commit()
    checked = {tuple(facts["subject_ids"]) for _, facts in _warning_rows(session) if facts["subject_ids"]}
    for subject_ids in sorted(checked):
        members = membership.members_of(session, list(subject_ids))
        own = sorted(p for ps in members.values() for p in ps)
        found = _evidence(session, own, _warned_persons(10**12))
        counts["subjects checked"] += 1
        _check_distribution(session, own, person_of, counts)
        for warning_id in sorted(found):
            if set(warned[warning_id]) & set(own):  # the subject's own warning: triage knows it
                continue
            theirs = membership.subject_of_persons(session, warned[warning_id])
            target = sorted(set(theirs.values()))[0] if theirs else None
            current = membership.subject_of_persons(session, own[:1]).get(own[0])
            same = {person_of.get(p) for p in own} & {person_of.get(p) for p in warned[warning_id]} - {None}
            counts["earlier warnings shown"] += 1
            if not same:
                counts["not the same person (acknowledged)"] += 1
            elif target is not None and current is not None and target != current:
                actions.merge(session, target, current, actor=Actor("bench-approver"),
                               reason=f"bench: earlier warning {warning_id} was this person's (ground truth)")
                counts["merged"] += 1
        session.commit()
    seconds = time.perf_counter() - start
    service.triage_pending(session, actor=Actor("bench"))
    session.commit()
    return {"checks": dict(counts), "check_s": round(seconds, 1), "accuracy": accuracy(session, truth, identified)}


def _check_distribution(session, own: list[int], person_of: dict, counts: Counter) -> None:
    """Approval's second search (registry/earlier.possible_distribution): subjects that distributed
    and share anything with this one; where the truth says it is the same person, the approver
    merges (a case follows), otherwise acknowledges."""
    from tiptriage.registry.earlier import _evidence
    from tiptriage.subjects import actions, membership
    from tiptriage.triage import service

    mine = set(membership.subject_of_persons(session, own).values())
    for other in sorted(set(_evidence(session, own, service.distributing_persons())) - mine):
        counts["distributing subjects shown"] += 1
        theirs = membership.members_of(session, [other]).get(other, [])
        if not {person_of.get(p) for p in own} & {person_of.get(p) for p in theirs} - {None}:
            counts["distributing subject not the same person (acknowledged)"] += 1
            continue
        current = membership.subject_of_persons(session, own[:1]).get(own[0])
        if current is not None and current != other:
            actions.merge(session, other, current, actor=Actor("bench-approver"),
                           reason="bench: the distributing subject was this person (ground truth)")
            counts["merged with a distributing subject"] += 1


def run(n: int, extensions: bool) -> dict:
    session, truth, stages = prepare(n, extensions)
    seconds, summary = triage_rate(session)
    doc = {"reports": n, "variant": "extensions" if extensions else "schema", **stages, "triage_s": round(seconds, 2),
           "triage_reports_per_s": round(n / seconds), "by_outcome": summary["by_outcome"],
           "alerts": summary["alerts"], "accuracy": accuracy(session, truth),
           "wrong_warnings": wrong_warnings(session, truth)}
    doc["after_reviews"] = after_reviews(session, truth)  # before the bank update, which the truth does not know
    doc["after_register_checks"] = after_register_checks(session, truth)
    doc["after_identifications"] = after_identifications(session, truth)
    identified = doc["after_identifications"].pop("identified")
    doc["after_approval_checks"] = after_approval_checks(session, truth, identified)
    doc["wrong_warnings_at_the_end"] = wrong_warnings(session, truth)
    doc["bank_update"] = retriage_after_bank_update(session)
    session.close()
    return doc


def _step(what: str, doc: dict) -> None:
    acc = doc["accuracy"]
    print(f"         {what}: outcome = truth {acc['share']:.2%}; re-reports "
          f"{acc['groups'].get('re_report_after_warning', {}).get('share')}; differences {acc['causes']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 100_000])
    parser.add_argument("--variants", nargs="+", choices=("schema", "extensions"), default=["schema"])
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        docs = [run(n, variant == "extensions") for variant in args.variants]
        for doc in docs:
            _print(n, doc)
        if len(docs) > 1:
            _side_by_side(docs)


def _print(n: int, doc: dict) -> None:
    acc = doc["accuracy"]
    groups = acc["groups"]
    print(f"{n:>7} reports ({doc['variant']}): triage {doc['triage_reports_per_s']:,} reports/s ({doc['triage_s']} s); "
          f"store+match+link took {doc.get('store_match_link_s', '?')} s")
    print(f"         outcome = truth: {acc['share']:.2%} overall; re-reports after a warning "
          f"{groups.get('re_report_after_warning', {}).get('share')}, distributors "
          f"{groups.get('distributed', {}).get('share')}, new material {groups.get('new_material', {}).get('share')}")
    print(f"         differences by cause: {acc['causes']}")
    print(f"         WARNING recommended for (truth): {doc['wrong_warnings']}")
    b = doc["bank_update"]
    print(f"         bank update touching {b['files_changed']} of {b['files']} files: retro-match {b['retro_match_s']} s, "
          f"re-triage of {b['retriaged']} reports {b['retriage_s']} s")
    after, checks = doc["after_reviews"], doc["after_register_checks"]
    ident, approval = doc["after_identifications"], doc["after_approval_checks"]
    _step(f"after analysts answer the open linkage reviews {after['reviews']}", after)
    _step(f"after reviews and register checks ({checks['checked']} reports WARNING with age_unknown checked, "
          f"{checks['retriaged']} re-triaged in {checks['retriage_s']} s)", checks)
    _step(f"after they also identify the persons of the {ident['reports']} reports NEEDS_IDENTIFICATION "
          f"({ident['identify_s']} s; linkage {ident['linkage']}; reviews then {ident['reviews']})", ident)
    _step(f"after approvers check possible earlier warnings before approving ({approval['checks']}, "
          f"{approval['check_s']} s)", approval)
    print(f"         WARNING recommended at the end for (truth): {doc['wrong_warnings_at_the_end']}")
    print(json.dumps(doc, default=str), file=sys.stderr)


def _side_by_side(docs: list[dict]) -> None:
    """The variants' main figures in columns: the same plan, written with and without the extension."""
    rows = [("outcome = truth, automatically", lambda d: f"{d['accuracy']['share']:.2%}"),
            ("... after reviews, checks, identifications, gates",
             lambda d: f"{d['after_approval_checks']['accuracy']['share']:.2%}"),
            ("distributors' outcome = truth", lambda d: str(d["accuracy"]["groups"].get("distributed", {}).get("share"))),
            ("new material's outcome = truth", lambda d: str(d["accuracy"]["groups"].get("new_material", {}).get("share"))),
            ("re-reports after a warning", lambda d: str(d["accuracy"]["groups"].get("re_report_after_warning",
                                                                                      {}).get("share"))),
            *[(f"WARNING for {label}", lambda d, label=label: str(d["wrong_warnings"][label]))
              for label, _ in NEVER_WARNED],
            ("triage reports/s", lambda d: f"{d['triage_reports_per_s']:,}")]
    print(f"{'':52}" + "".join(f"{d['variant']:>14}" for d in docs))
    for label, value in rows:
        print(f"{label:52}" + "".join(f"{value(d):>14}" for d in docs))


if __name__ == "__main__":
    main()
