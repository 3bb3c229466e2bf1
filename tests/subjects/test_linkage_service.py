"""Linking stored reports to subjects, and the analyst's actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.audit import service as audit
from tiptriage.subjects import actions, documents, errors, linking, lookup, membership, model_store, models, retriage, reviews, storedlinks
from tiptriage.subjects.models import SubjectLink, SubjectMember
from tiptriage.synth.truth import stored_person_ids

from .dbdata import add_report

AT = datetime(2023, 5, 1, 12, tzinfo=UTC)


def _resolve(session, *report_ids):
    result = linking.resolve_reports(session, list(report_ids), actor=Actor("test"))
    session.commit()
    return result


def test_a_second_report_with_the_same_mailbox_and_name_joins_the_subject(session):
    r1, p1 = add_report(session, given="Jan", family="de Vries", dob=date(1980, 1, 2), emails=("jan@x.nl",))
    r2, p2 = add_report(session, given="jan", family="de vries", emails=("Jan@X.nl",), uid="998877")
    (first,) = _resolve(session, r1)
    (second,) = _resolve(session, r2)
    assert first.decision == "new" and second.decision == "linked"
    assert second.subject_id == first.subject_id
    link = session.get(SubjectLink, second.link_id)
    assert link.model_version == model_store.active_model(session).version
    email = next(f for f in link.evidence["fields"] if f["field"] == "email")
    assert email["level"] == "same" and email["weight"] > 0
    assert membership.affected_reports(session, [first.subject_id]) == sorted([r1, r2])


def test_resolving_again_changes_nothing_and_recipients_are_no_subjects(session):
    r1, _ = add_report(session, given="Piet", family="Bakker", emails=("piet@x.nl",))
    r2, p2 = add_report(session, given="Kim", family="Bakker", role="recipient")
    assert len(_resolve(session, r1, r2)) == 1
    assert _resolve(session, r1, r2) == []
    assert membership.subject_of_persons(session, [p2]) == {}


def test_twins_at_one_address_stay_apart_and_go_to_review(session):
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    r1, _ = add_report(
        session, given="Daan", family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),)
    )
    r2, _ = add_report(
        session, given="Sem", family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),)
    )
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert b.subject_id != a.subject_id
    assert b.decision == "review" and len(b.review_ids) == 1
    assert storedlinks.StoredLinks().candidates_of(session, [b.reported_person_id]) == {
        b.reported_person_id: [a.subject_id]
    }
    # Only the population register tells twins from one person: the review says so.
    review = session.get(models.SubjectReview, b.review_ids[0])
    assert documents.review_evidence(session, review)["register_check"] == "BRP"


def test_a_typing_error_at_one_address_is_similar_not_a_twin(session):
    """Family name, address and connection agree: a birth date with a typing error is the same
    person; a given name one typing error away may be that person or a twin (Joël and Joep), so it
    opens a review that names the BRP instead of a new subject or a link."""
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    r1, _ = add_report(
        session, given="Marloes", family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),)
    )
    r2, _ = add_report(
        session, given="Marlose", family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),)
    )
    r3, _ = add_report(
        session, given="Marloes", family="Visser", dob=date(2001, 4, 20), address=home, ips=(("94.210.1.2", AT),)
    )
    a, b, c = (_resolve(session, r)[0] for r in (r1, r2, r3))
    assert b.decision == "review"
    assert (c.decision, c.subject_id) == ("linked", a.subject_id)


def test_a_widely_shared_address_is_no_evidence(session):
    """A NAT address seen with many persons counts for nothing, even at the same moment."""
    reports = [
        add_report(session, given=g, family="Jansen", ips=(("145.100.9.9", AT),))[0]
        for g in ("Anna", "Bram", "Cas", "Daan", "Eva", "Finn")
    ]
    results = [_resolve(session, r)[0] for r in reports]
    last = session.get(SubjectLink, results[-1].link_id)
    assert "145.100.9.9" in last.evidence["shared_ips_ignored"]
    assert len({r.subject_id for r in results}) == len(results)


def test_merge_then_split_restores_both_subjects_with_their_reports(session):
    r1, p1 = add_report(session, given="Ali", family="Yilmaz", emails=("ali@x.nl",))
    r2, p2 = add_report(session, given="Bo", family="Smit", emails=("bo@x.nl",))
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    with pytest.raises(errors.SubjectError):
        actions.merge(session, a.subject_id, b.subject_id, actor=Actor("analyst"), reason=" ")
    merged = actions.merge(
        session, a.subject_id, b.subject_id, actor=Actor("analyst"), reason="same phone in case file"
    )
    session.commit()
    assert membership.members_of(session, [a.subject_id]) == {a.subject_id: sorted([p1, p2])}
    assert sorted(merged.affected_report_ids) == sorted([r1, r2])
    split = actions.split(session, a.subject_id, [p2], actor=Actor("analyst"), reason="phone was a family line")
    session.commit()
    assert split.subject_ids == (a.subject_id, b.subject_id)  # the merged subject is back, with its id
    assert membership.subject_of_persons(session, [p1, p2]) == {p1: a.subject_id, p2: b.subject_id}
    assert documents.subject_document(session, b.subject_id, actor=Actor("analyst"))["merged_into"] is None
    history = (
        session.execute(
            select(SubjectMember).where(SubjectMember.reported_person_id == p2).order_by(SubjectMember.id)
        )
        .scalars()
        .all()
    )
    assert [m.subject_id for m in history] == [b.subject_id, a.subject_id, b.subject_id]
    assert sorted(retriage.pending_retriage(session)) == sorted([r1, r2])
    audited = [e.action for e in audit.events(session, limit=10)]
    assert "subjects.merge" in audited and "subjects.split" in audited
    assert audit.verify(session).ok


def test_confirming_a_review_moves_the_person_and_split_undoes_it(session):
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    r1, _ = add_report(session, given="Daan", family="Visser", dob=date(2001, 4, 2), address=home)
    r2, p2 = add_report(session, given="Sem", family="Visser", dob=date(2001, 4, 2), address=home)
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    review_id = b.review_ids[0]
    result = reviews.confirm_review(
        session, review_id, actor=Actor("analyst"), reason="one person, two names in use"
    )
    session.commit()
    assert membership.subject_of_persons(session, [p2]) == {p2: a.subject_id}
    assert result.affected_report_ids == tuple(sorted([r1, r2]))
    with pytest.raises(errors.SubjectError):
        reviews.reject_review(session, review_id, actor=Actor("analyst"), reason="again")
    undone = actions.split(session, a.subject_id, [p2], actor=Actor("analyst"), reason="confirmed by mistake")
    assert undone.subject_ids == (a.subject_id, b.subject_id)


def test_rejecting_a_review_is_audited(session):
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    r1, _ = add_report(session, given="Daan", family="Visser", dob=date(2001, 4, 2), address=home)
    r2, _ = add_report(session, given="Sem", family="Visser", dob=date(2001, 4, 2), address=home)
    _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert retriage.pending_retriage(session) == []
    reviews.reject_review(session, b.review_ids[0], actor=Actor("analyst"), reason="twins, checked in BRP")
    session.commit()
    event = audit.events(session, limit=1, action="subjects.review.reject")[0]
    assert event.reason == "twins, checked in BRP" and event.actor == "analyst"
    assert reviews.open_reviews(session) == []
    # The open review held both reports back (a possible match): they are triaged again.
    assert sorted(retriage.pending_retriage(session)) == sorted([r1, r2])


def test_search_by_identifier_is_audited_with_its_reason(session):
    r1, _ = add_report(session, given="Jan", family="de Vries", phones=("06-12345678",))
    (a,) = _resolve(session, r1)
    with pytest.raises(errors.SubjectError):
        lookup.search(session, "+31612345678", actor=Actor("analyst"), reason="")
    assert lookup.search(session, "0031 6 1234 5678", actor=Actor("analyst"), reason="request 2023-17") == [
        a.subject_id
    ]
    event = audit.events(session, limit=1, action="subjects.search")[0]
    assert event.reason == "request 2023-17" and event.entity_ids == [a.subject_id]


def _truth_pairs(session, truth: dict) -> tuple[dict[int, str], dict[int, int]]:
    person_of = stored_person_ids(session, truth)
    return person_of, membership.subject_of_persons(session, person_of)


def _pairs(groups: dict) -> set[tuple[int, int]]:
    by = defaultdict(list)
    for item, group in groups.items():
        by[group].append(item)
    return {pair for items in by.values() for pair in itertools.combinations(sorted(items), 2)}


def test_generated_reports_link_without_false_merges_and_traps_stay_apart(session, small_set):
    summary = pipeline.ingest(session, [small_set.out / "reports"], actor=Actor("test"))
    session.commit()
    resolutions = _resolve(session, *summary.report_ids)
    person_of, subject_of = _truth_pairs(session, small_set.truth)
    assert set(subject_of) == set(person_of) == {r.reported_person_id for r in resolutions}
    predicted, true = _pairs(subject_of), _pairs(person_of)
    assert len(predicted & true) / len(predicted) >= 0.99
    assert len(predicted & true) / len(true) >= 0.3  # most evidence-poor pairs go to review, not to a link
    for trap in small_set.truth["traps"]["shared_ips"]:
        subjects = [subject_of[p] for p, who in person_of.items() if who in trap["person_ids"]]
        by_subject = defaultdict(set)
        for p, who in person_of.items():
            if who in trap["person_ids"]:
                by_subject[subject_of[p]].add(who)
        assert all(len(who) == 1 for who in by_subject.values()), (trap, subjects)
    # Twins, siblings and namesakes of the set are different people: never one subject.
    traps = [group for kind in ("twins", "siblings", "namesakes") for group in small_set.truth["traps"][kind]]
    assert any(small_set.truth["traps"][kind] for kind in ("twins", "siblings"))
    for group in traps:
        subjects = [{subject_of[p] for p, who in person_of.items() if who == person} for person in group]
        assert all(not x & y for x, y in itertools.combinations(subjects, 2)), group


# --- A home connection, joins of two subjects, households --------------------------------------


def test_a_home_connection_finds_the_earlier_report_that_shares_no_other_key(session):
    """No birth date and no postcode: the names give no blocking key; the home address does."""
    later = AT.replace(month=11)  # months later: a home connection keeps its address
    r1, _ = add_report(session, given="Joris", family="Hendriks", ips=(("94.210.7.7", AT),))
    r2, _ = add_report(session, given="joris", family="HENDRIKS", ips=(("94.210.7.7", later),))
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert (b.decision, b.subject_id) == ("linked", a.subject_id)
    ip = next(f for f in session.get(SubjectLink, b.link_id).evidence["fields"] if f["field"] == "ip")
    assert ip["level"] == "same address, other time" and ip["weight"] > 0


def test_a_shared_address_finds_no_candidates(session):
    """Six people behind one NAT address: the address finds no one, so no review is opened."""
    reports = [
        add_report(session, given=g, family=f, ips=(("145.100.9.10", AT),))[0]
        for g, f in (("Anna", "Bos"), ("Bram", "Mol"), ("Cas", "Kok"), ("Daan", "Post"), ("Eva", "Wit"), ("Finn", "Kaya"))
    ]
    results = [_resolve(session, r)[0] for r in reports]
    assert results[-1].decision == "new" and results[-1].review_ids == ()


def test_a_twin_without_a_name_is_not_linked_on_household_evidence(session):
    """Birth date, family home and connection are all a twin shares: without a given name or an
    identifier of one person, that is a question for an analyst, not a link."""
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    r1, _ = add_report(
        session, given="Daan", family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),)
    )
    r2, _ = add_report(session, family="Visser", dob=date(2001, 4, 2), address=home, ips=(("94.210.1.2", AT),))
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert b.subject_id != a.subject_id and b.decision == "review"
    guards = session.get(SubjectLink, b.link_id).evidence["guards"]
    assert "household_only" in guards


def test_swapped_names_of_two_namesakes_do_not_link(session):
    """'Ravi Jansen' and 'Jansen Ravi' of one birth year: one coincidence, counted once."""
    r1, _ = add_report(session, given="Ravi", family="Jansen", dob=date(1995, 4, 11), uid="111")
    r2, _ = add_report(session, given="Jansen", family="Ravi", dob=date(1995, 1, 29), uid="222")
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert b.subject_id != a.subject_id and b.decision != "linked"


def _two_subjects_and_a_bridge(session):
    """Two reports of one man that share nothing, then a third that carries both identifiers."""
    r1, p1 = add_report(session, given="Kees", family="Mulder", emails=("kees.m@x.nl",), uid="1")
    r2, p2 = add_report(session, given="Kees", family="Mulder", phones=("0612121212",), uid="2", platform="vidova")
    r3, p3 = add_report(session, emails=("kees.m@x.nl",), uid="2", platform="vidova")  # r1's mailbox, r2's account
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert a.subject_id != b.subject_id  # a common name alone does not link
    return (a, b), (r1, r2, r3), (p1, p2, p3)


def test_a_report_that_links_two_subjects_joins_them_audited_and_reversibly(session):
    (a, b), (r1, r2, r3), (p1, p2, p3) = _two_subjects_and_a_bridge(session)
    (c,) = _resolve(session, r3)
    assert c.decision == "linked"
    subjects = membership.subject_of_persons(session, [p1, p2, p3])
    assert len(set(subjects.values())) == 1
    event = audit.events(session, limit=5, action="subjects.join")[0]
    assert f"reported person {p3}" in event.reason
    history = documents.subject_document(session, subjects[p3], actor=Actor("analyst"))["operations"]
    assert [op["reason"] for op in history if op["kind"] == "join"] == [event.reason]
    assert set(retriage.pending_retriage(session)) >= {r1, r2}  # both earlier reports are triaged again
    # The join is the fast path's, not an analyst's: splitting off what it brought in restores that subject.
    kept = subjects[p3]
    gone, back = (b.subject_id, p2) if kept == a.subject_id else (a.subject_id, p1)
    split = actions.split(session, kept, [back], actor=Actor("analyst"), reason="two men, one family phone")
    session.commit()
    assert split.subject_ids == (kept, gone)
    assert membership.subject_of_persons(session, [back]) == {back: gone}


def test_a_report_never_joins_subjects_an_analyst_kept_apart(session):
    (a, b), (_, _, r3), (p1, p2, p3) = _two_subjects_and_a_bridge(session)
    # An analyst looked at a possible match between the two and said no.
    review = reviews.open_review(session, "possible_same_subject", None, a.subject_id, b.subject_id, None, 0.0, AT)
    reviews.reject_review(session, review, actor=Actor("analyst"), reason="different men, BRP checked")
    session.commit()
    (c,) = _resolve(session, r3)
    subjects = membership.subject_of_persons(session, [p1, p2, p3])
    assert subjects[p1] != subjects[p2]
    assert c.decision == "linked" and any(
        r.kind == "possible_same_subject" for r in reviews.open_reviews(session)
    )


def test_a_name_and_a_birth_date_alone_never_fuse_two_subjects(session):
    """Two namesakes each have a subject; a report that fits the first by address and the second
    only by name and a birth date written the other way round (6 March / 3 June) links to the first
    and asks about the second: without an identifier of one person, only strong evidence fuses."""
    home = ("Kerkstraat 4", "3511 AA", "Utrecht")
    r1, p1 = add_report(session, given="Evert", family="Zwanenburg", address=home, uid="1")
    r2, p2 = add_report(session, given="Evert", family="Zwanenburg", dob=date(1990, 3, 6), uid="2", platform="vidova")
    r3, p3 = add_report(session, given="Evert", family="Zwanenburg", dob=date(1990, 6, 3), address=home, uid="3",
                        platform="gramble")
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    assert a.subject_id != b.subject_id
    (c,) = _resolve(session, r3)
    subjects = membership.subject_of_persons(session, [p1, p2, p3])
    assert (c.decision, subjects[p3]) == ("linked", subjects[p1]) and subjects[p2] != subjects[p1]
    assert audit.events(session, limit=5, action="subjects.join") == []
    # It links to the namesake's subject too, so an analyst is asked rather than nobody.
    assert [(r.kind, r.candidate_subject_id) for r in reviews.open_reviews(session)] == [
        ("possible_same_subject", subjects[p2])
    ]
    # Seeing both sides of it, names and dates side by side, is a consultation on record.
    (review,) = reviews.open_reviews(session)
    shown = documents.view_review(session, review.id, actor=Actor("analyst"), reason="review")
    assert shown["evidence"] and audit.events(session, limit=1, action="subjects.review.view")[0].details == {
        "review_id": review.id}


def test_a_members_own_account_links_a_report_another_member_conflicts_with(session):
    """An analyst merged 'Catharina' and 'Kaatje' Visser (a nickname no table knows). A new report
    from Kaatje's platform account links to that subject although its given name conflicts with
    Catharina's; the same report without the account goes to an analyst instead."""
    r1, p1 = add_report(session, given="Catharina", family="Visser", dob=date(1971, 8, 9), emails=("cv@x.nl",))
    r2, p2 = add_report(session, given="Kaatje", family="Visser", uid="5551", screen_name="kaatje71")
    (a,) = _resolve(session, r1)
    (b,) = _resolve(session, r2)
    actions.merge(session, a.subject_id, b.subject_id, actor=Actor("analyst"), reason="same person per case file")
    session.commit()
    r3, p3 = add_report(session, given="Kaatje", family="Visser", dob=date(1971, 8, 9), uid="5551", platform="kwebbel")
    r4, p4 = add_report(session, given="Kaatje", family="Visser", dob=date(1971, 8, 9), screen_name="kaatje_v",
                        platform="vidova")
    (c,) = _resolve(session, r3)
    assert (c.decision, c.subject_id) == ("linked", a.subject_id)
    (d,) = _resolve(session, r4)
    assert d.decision == "review" and d.subject_id != a.subject_id


def test_a_review_of_a_subject_merged_meanwhile_confirms_its_successor(session):
    """A possible match between A and B stays open while an analyst merges A into C: confirming it
    then merges C and B (was: refused, 'only active subjects can be merged'); a review between two
    sides that are one subject by now is refused as moot."""
    ids = [add_report(session, given=g, family="Zwanenburg", uid=u) for g, u in (("Aart", "1"), ("Bert", "2"), ("Cees", "3"))]
    a, b, c = (r.subject_id for r in _resolve(session, *[r for r, _ in ids]))
    ab = reviews.open_review(session, "possible_same_subject", None, a, b, None, 0.0, AT)
    again = reviews.open_review(session, "possible_same_subject", None, a, b, None, 0.0, AT)
    actions.merge(session, c, a, actor=Actor("analyst"), reason="one man, BRP checked")
    session.commit()
    result = reviews.confirm_review(session, ab, actor=Actor("analyst"), reason="the same man")
    session.commit()
    assert result.subject_ids == (c,)
    assert set(membership.subject_of_persons(session, [p for _, p in ids]).values()) == {c}
    with pytest.raises(errors.SubjectError, match="moot"):
        reviews.confirm_review(session, again, actor=Actor("analyst"), reason="the same man")
