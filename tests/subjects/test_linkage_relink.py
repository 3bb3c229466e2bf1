"""Batch relinking with Splink: proposed, shown, applied only on request; DuckDB and Spark."""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from tiptriage.accounts.actor import Actor
from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory
from tiptriage.subjects import actions, batch, errors, linkage, linking, membership, model_store, retriage

from .dbdata import add_report


def _two_subjects_of_one_person(session):
    """One person whose first two reports share nothing, and a third that bridges them."""
    r1, p1 = add_report(session, given="Noor", family="Bakker", dob=date(1990, 5, 6), emails=("noor@x.nl",))
    r2, p2 = add_report(session, given="Lisa", family="Mulder", phones=("0611112222",), uid="4455")
    linking.resolve_reports(session, [r1, r2], actor=Actor("test"))
    r3, p3 = add_report(
        session,
        given="Noor",
        family="Bakker",
        dob=date(1990, 5, 6),
        emails=("noor@x.nl",),
        phones=("0611112222",),
    )
    linking.resolve_reports(session, [r3], actor=Actor("test"))
    session.commit()
    return p1, p2, p3


def test_relink_proposes_without_applying_and_applies_on_request(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    before = membership.subject_of_persons(session, [p1, p2, p3])
    run = batch.propose_relink(session, actor=Actor("analyst"))
    session.commit()
    assert membership.subject_of_persons(session, [p1, p2, p3]) == before  # nothing applied yet
    assert run.status == "proposed" and run.summary["pairs_scored"] >= 2
    clusters = {int(p): c for p, c in run.clusters.items()}
    assert clusters[p1] == clusters[p3]
    with pytest.raises(errors.SubjectError):
        batch.apply_relink(session, run.id, actor=Actor("analyst"), reason="")
    result = batch.apply_relink(session, run.id, actor=Actor("analyst"), reason="monthly relink reviewed")
    session.commit()
    after = membership.subject_of_persons(session, [p1, p2, p3])
    assert len({after[p1], after[p3]}) == 1
    assert set(result.affected_report_ids) <= set(retriage.pending_retriage(session))


def test_a_stale_run_is_refused(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    run = batch.propose_relink(session, actor=Actor("analyst"))
    subjects = sorted(set(membership.subject_of_persons(session, [p1, p2, p3]).values()))
    if len(subjects) > 1:
        actions.merge(session, subjects[0], subjects[1], actor=Actor("analyst"), reason="known from the case file")
    else:
        actions.split(session, subjects[0], [p2], actor=Actor("analyst"), reason="different people")
    with pytest.raises(errors.SubjectError):
        batch.apply_relink(session, run.id, actor=Actor("analyst"), reason="too late")


def test_relink_keeps_an_analysts_split(session):
    p1, p2, p3 = _two_subjects_of_one_person(session)
    subject = membership.subject_of_persons(session, [p1])[p1]
    members = membership.members_of(session, [subject])[subject]
    if len(members) < 2:
        pytest.skip("the fast path kept the reports apart: nothing to split")
    actions.split(session, subject, [p3], actor=Actor("analyst"), reason="different people after all")
    session.commit()
    run = batch.propose_relink(session, actor=Actor("analyst"))
    clusters = {int(p): c for p, c in run.clusters.items()}
    assert clusters[p3] != clusters[p1]


def _one_person_and_a_twin(session):
    """Daan's reports A–B–C, chained by a mailbox (A–B) and a phone with a 1 January birth date
    (B–C, a weak link), and his twin Thijs (D): same family name and birth date as A and B (a given
    name conflict), and linked to C only by a weaker edge (a shared screen name)."""
    dob = date(2001, 3, 4)
    ra, a = add_report(session, given="Daan", family="de Vries", dob=dob, emails=("daan.dv@x.nl",))
    rb, b = add_report(
        session, given="Daan", family="de Vries", dob=dob, emails=("daan.dv@x.nl",), phones=("0611223344",)
    )
    rc, c = add_report(
        session,
        dob=date(2001, 1, 1),
        phones=("0611223344",),
        screen_name="vriesje",
        address=("Dorpsweg 9", "1000AA", "Utrecht"),
    )
    rd, d = add_report(
        session,
        given="Thijs",
        family="de Vries",
        dob=dob,
        screen_name="vriesje",
        address=("Heuvel 2", "9700ZZ", "Groningen"),
    )
    linking.resolve_reports(session, [ra, rb, rc, rd], actor=Actor("test"))
    session.commit()
    return a, b, c, d


def _scored(session) -> dict[tuple[int, int], batch.Pair]:
    model = model_store.active_model(session)
    return {(p.left, p.right): p for p in batch.score_all(model, batch.stored_records(session))}


def test_batch_guards_use_splinks_field_weights(session):
    """The guards need each field's weight; Splink 5 writes them as mw_<field> (log2), and reading
    them as 0 made every pair without a shared mailbox, phone or user id 'uncorroborated'."""
    a, b, c, d = _one_person_and_a_twin(session)
    model = model_store.active_model(session)
    records = {r["unique_id"]: r for r in batch.stored_records(session)}
    scored = _scored(session)
    assert scored[(c, d)].guards == ()  # screen name and birth year: two kinds of evidence
    for (left, right), pair in scored.items():
        if records[left]["given"] is None or records[right]["given"] is None:  # no term frequencies
            fast = linkage.score(model, records[left], records[right])
            assert pair.guards == fast.guards
            assert pair.weight == pytest.approx(fast.match_weight)


def test_batch_counts_how_common_a_name_is_as_the_fast_path_does(session):
    """Term frequencies shrunk towards the model's base rate in both paths: with the same counts,
    a pair of namesakes weighs the same in relinking as at ingest."""
    _one_person_and_a_twin(session)
    model = model_store.active_model(session)
    records = {r["unique_id"]: r for r in batch.stored_records(session)}
    counts = {c: Counter(r[c] for r in records.values() if r[c]) for c in linkage.TF_COLUMNS}

    def tf(column, value):  # the fast path's formula, with every record counted
        total = sum(counts[column].values())
        return (counts[column][value] + linkage.TF_PRIOR_RECORDS * model.exact_u[column]) / (
            total + linkage.TF_PRIOR_RECORDS
        )

    named = 0
    for (left, right), pair in _scored(session).items():
        fast = linkage.score(model, records[left], records[right], tf)
        assert pair.weight == pytest.approx(fast.match_weight)
        named += records[left]["given"] is not None and records[left]["given"] == records[right]["given"]
    assert named  # the scenario has pairs whose given names agree


def test_a_conflict_in_a_cluster_drops_only_the_weakest_link_needed(session):
    a, b, c, d = _one_person_and_a_twin(session)
    model = model_store.active_model(session)
    link = model.thresholds.link
    scored = _scored(session)
    # What the scenario rests on: one component A–B–C–D whose B–C link is weak (re-clustering on
    # stronger edges only would lose it) and whose C–D link is weaker still; D conflicts with A.
    assert "given_name_conflict" in scored[(a, d)].guards
    for weak in ((b, c), (c, d)):
        assert not scored[weak].guards and link <= scored[weak].weight < link + 4
    assert scored[(c, d)].weight < scored[(b, c)].weight
    run = batch.propose_relink(session, actor=Actor("analyst"))
    clusters = {int(p): label for p, label in run.clusters.items()}
    assert clusters[a] == clusters[b] == clusters[c]
    assert clusters[d] != clusters[a]


def test_relink_never_crosses_a_cannot_link(session):
    a, b, c, d = _one_person_and_a_twin(session)
    subject = membership.subject_of_persons(session, [a])[a]
    assert membership.subject_of_persons(session, [c])[c] == subject
    actions.split(session, subject, [c], actor=Actor("analyst"), reason="the phone was passed on")
    session.commit()
    run = batch.propose_relink(session, actor=Actor("analyst"))
    clusters = {int(p): label for p, label in run.clusters.items()}
    assert clusters[c] not in {clusters[a], clusters[b]}
    assert clusters[a] == clusters[b] and clusters[d] != clusters[a]


def test_constrained_clustering_is_independent_of_input_order():
    """Strongest edges first, ties by person ids; an analyst's must-link crosses a household
    conflict but never a cannot-link; nothing chains through a conflict."""
    model = SimpleNamespace(thresholds=linkage.Thresholds(link=5.0, review=-4.0))
    pairs = [
        batch.Pair(1, 2, 20.0, ()),
        batch.Pair(2, 3, 9.0, ()),
        batch.Pair(3, 4, 6.0, ()),
        batch.Pair(1, 4, -3.0, ("given_name_conflict",)),
        batch.Pair(4, 5, 12.0, ()),
        batch.Pair(5, 6, 7.0, ()),
        batch.Pair(6, 7, 7.0, ()),
        batch.Pair(8, 9, 15.0, (), personal=False, vouches=False),  # a name and a birth date: vouches for no one
        batch.Pair(7, 8, 7.0, ("household_only",)),  # not an edge
        batch.Pair(1, 9, 2.0, ("birth_conflict",)),
        batch.Pair(2, 11, -1.0, ("birth_conflict",)),  # an analyst merged them all the same
    ]
    persons = list(range(1, 12))
    must, cannot = {(8, 10), (2, 10), (2, 11)}, {(6, 7)}
    expected = None
    for seed in range(6):
        rng = random.Random(seed)
        shuffled, order = pairs[:], persons[:]
        rng.shuffle(shuffled)
        rng.shuffle(order)
        labels = batch.cluster(model, order, shuffled, must=must, cannot=cannot)
        expected = expected or labels
        assert labels == expected
    groups = {}
    for person, label in expected.items():
        groups.setdefault(label, set()).add(person)
    # Must-links first: 2–10, 2–11 (across a birth conflict), 8–10; then 1–2 (20); 8–9 (15) would
    # bring 9 to 1 (birth conflict); 4–5 (12), 2–3 (9), 5–6 (7); 3–4 (6) would bring 4 to 1 (given
    # name conflict); 6–7 is a cannot-link and 7–8 a guarded pair, so 7 stays alone.
    assert sorted(map(sorted, groups.values())) == [[1, 2, 3, 8, 10, 11], [4, 5, 6], [7], [9]]


def test_a_lone_record_sharing_a_members_mailbox_joins_across_a_nickname_conflict():
    """As in the fast path: record 3 shares a mailbox with 2, and its given name conflicts with 1's
    (a nickname no table knows); without the mailbox (a name and a birth date) it stays apart, and two groups never fuse so."""
    model = SimpleNamespace(thresholds=linkage.Thresholds(link=5.0, review=-4.0))
    conflict = batch.Pair(1, 3, -3.0, ("given_name_conflict",))

    def groups(pairs):
        labels = batch.cluster(model, [1, 2, 3, 4], pairs, must=set(), cannot=set())
        return sorted(sorted(p for p in labels if labels[p] == label) for label in set(labels.values()))

    assert groups([batch.Pair(1, 2, 20.0, ()), batch.Pair(2, 3, 10.0, ()), conflict]) == [[1, 2, 3], [4]]
    assert groups([batch.Pair(1, 2, 20.0, ()), batch.Pair(2, 3, 12.5, (), personal=False, vouches=False), conflict]) == [
        [1, 2],
        [3],
        [4],
    ]
    # 3 and 4 are a group of their own now: the mailbox brings no group across the conflict.
    pairs = [batch.Pair(1, 2, 20.0, ()), batch.Pair(3, 4, 30.0, ()), batch.Pair(2, 3, 10.0, ()), conflict]
    assert groups(pairs) == [[1, 2], [3, 4]]


def test_the_cli_shows_a_subject_with_evidence_and_searches_with_a_reason(cli_env):
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        p1, _, _ = _two_subjects_of_one_person(s)
        subject = membership.subject_of_persons(s, [p1])[p1]
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["subjects", "show", str(subject), "--json"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["id"] == subject and doc["links"] and "fields" in doc["links"][0]["evidence"]
    assert runner.invoke(app, ["subjects", "search", "noor@x.nl"]).exit_code == 2  # no --reason
    found = runner.invoke(app, ["subjects", "search", "noor@x.nl", "--reason", "case 17", "--json"])
    assert found.exit_code == 0 and subject in json.loads(found.output)["subjects"]
    assert runner.invoke(app, ["subjects", "show", "999999"]).exit_code == 1
    assert runner.invoke(app, ["subjects", "review", "--json"]).exit_code == 0


def test_the_cli_review_of_twins_says_the_register_settles_it(cli_env, monkeypatch):
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        r1, _ = add_report(s, given="Daan", family="Visser", dob=date(2001, 4, 2), address=home)
        r2, _ = add_report(s, given="Sem", family="Visser", dob=date(2001, 4, 2), address=home)
        linking.resolve_reports(s, [r1], actor=Actor("test"))
        (twin,) = linking.resolve_reports(s, [r2], actor=Actor("test"))
        s.commit()
    engine.dispose()
    review = str(twin.review_ids[0])
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["subjects", "review", review, "--json"]).output)
    assert doc["register_check"] == "BRP" and "household_only" in doc["evidence"]["guards"]
    shown = runner.invoke(app, ["subjects", "review", review]).output
    assert "population register (BRP)" in " ".join(shown.split())  # however the console wraps it
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    shown = runner.invoke(app, ["subjects", "review", review]).output
    assert "basisregistratie personen (BRP)" in " ".join(shown.split())


def _spark_available() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install .[spark])"
    if shutil.which("java") is None:
        return "no java on PATH (Spark needs Java 17)"
    return None


@pytest.mark.slow
def test_relink_on_spark_in_local_mode_finds_the_same_clusters(session):
    why = _spark_available()
    if why:
        pytest.skip(why)
    if session.bind.dialect.name != "sqlite":
        pytest.skip("one database is enough: Spark reads the same records either way")
    p1, p2, p3 = _two_subjects_of_one_person(session)
    duck = batch.propose_relink(session, actor=Actor("analyst"))
    spark = batch.propose_relink(session, actor=Actor("analyst"), engine="spark")
    assert spark.engine == "spark"
    assert spark.clusters == duck.clusters
    assert spark.summary["pairs_scored"] == duck.summary["pairs_scored"]


def test_a_name_and_a_birth_year_bring_a_record_to_a_group_but_never_fuse_two_groups():
    """As in the fast path: an edge without an identifier of one person and below JOIN_WEIGHT may
    attach a lone record, never join two histories (namesakes)."""
    model = SimpleNamespace(thresholds=linkage.Thresholds(link=5.0, review=-4.0))
    pairs = [
        batch.Pair(1, 2, 20.0, (), personal=True),  # one man's two accounts share a mailbox
        batch.Pair(3, 4, 20.0, (), personal=True),  # his namesake's
        batch.Pair(2, 3, 7.0, (), personal=False),  # same name, same birth year
        batch.Pair(1, 5, 7.0, (), personal=False),  # a lone report with his name and birth year
        batch.Pair(1, 6, 8.0, (), personal=False),  # fits both; the stronger edge decides
        batch.Pair(3, 6, 7.0, (), personal=False),
        batch.Pair(3, 7, 13.0, (), personal=False),  # name and exact birth date and more: strong
    ]
    labels = batch.cluster(model, list(range(1, 8)), pairs, must=set(), cannot=set())
    groups = {}
    for person, label in labels.items():
        groups.setdefault(label, set()).add(person)
    assert sorted(map(sorted, groups.values())) == [[1, 2, 5, 6], [3, 4, 7]]
