"""Who acts is an identity: four-eyes compares identities, not spellings; roles and units come from
the unit's accounts file; an id that is not one is refused at the door, in Dutch."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from triage.dbdata import bank, ingest, known, report, reported_person
from typer.testing import CliRunner

from tests_support import command
from tiptriage import flows
from tiptriage.audit.models import AuditEvent
from tiptriage.media import service as media
from tiptriage.subjects import actions
from tiptriage.accounts.actor import ROLES, Actor, NotAllowed, local_actor, same_identity, user_id
from tiptriage.cli import app
from tiptriage.config import get_settings
from tiptriage.registry import service as registry
from tiptriage.triage import service as triage
from tiptriage.triage.subjectlinks import FixedLinks

ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)


@given(ids, st.sampled_from([str.upper, str.title, lambda s: f"  {s}\t", lambda s: s]))
def test_case_and_spacing_do_not_make_another_person(uid, spelling):
    assert user_id(spelling(uid)) == uid
    assert Actor(spelling(uid)) == Actor(uid)


@given(ids)
def test_normalising_twice_changes_nothing(uid):
    assert user_id(user_id(uid)) == user_id(uid)


def test_full_width_letters_are_the_same_person_and_look_alikes_are_refused():
    assert Actor("ａｎａｌｙｓｔ＿ａ") == "analyst_a"
    for look_alike in ("\u0430nalyst_a", "analyst_\u0430", "anal\u0443st_a"):  # Cyrillic а, у
        with pytest.raises(ValueError, match="is not a user id"):
            Actor(look_alike)


def test_an_id_recorded_before_ids_were_normalised_is_still_the_same_person():
    assert same_identity("Analyst_A ", Actor("analyst_a"))
    assert not same_identity("analyst_b", Actor("analyst_a"))


@pytest.fixture
def proposed(session, tmp_path):
    bank(session, tmp_path)
    (report_id,) = ingest(session, tmp_path / "in", report("first", known(0)))
    links = FixedLinks({reported_person(session, report_id): 7})
    triage.triage_reports(session, [report_id], actor=Actor("analyst"), links=links)
    warning = flows.propose_warning(session, report_id, actor=Actor("analyst_a"), justification="x", links=links)
    session.commit()
    return warning, links


@pytest.mark.parametrize("approver", ["Analyst_A", " analyst_a ", "ANALYST_A", "ａｎａｌｙｓｔ＿ａ"])
def test_the_proposer_cannot_approve_under_another_spelling(session, proposed, approver):
    warning, links = proposed
    with pytest.raises(registry.RegistryError, match="a second person must approve"):
        flows.approve_warning(session, warning.id, actor=Actor(approver), links=links)


def test_a_second_person_approves(session, proposed):
    warning, links = proposed
    assert flows.approve_warning(session, warning.id, actor=Actor("analyst_b"), links=links).warning.state == "approved"


def test_roles_and_units_decide_who_may_approve(session, proposed):
    warning, links = proposed
    analyst = Actor("analyst_b", roles=["analyst"])
    session.commit()  # the commands before this one
    with pytest.raises(NotAllowed, match="needs the role team_lead"), command(session):
        flows.approve_warning(session, warning.id, actor=analyst, links=links)
    elsewhere = Actor("lead_b", roles=["team_lead"], units=["Noord-Nederland"])
    if warning.unit != "Noord-Nederland":
        session.commit()  # the commands before this one
        with pytest.raises(NotAllowed, match="for unit"), command(session):
            flows.approve_warning(session, warning.id, actor=elsewhere, links=links)
    lead = Actor("lead_c", roles=["team_lead"], units=[warning.unit])
    assert flows.approve_warning(session, warning.id, actor=lead, links=links).warning.state == "approved"


def test_a_bare_name_is_no_identity_and_may_not_approve(session, proposed):
    warning, links = proposed
    with pytest.raises(NotAllowed):
        registry.approve(session, warning.id, actor="analyst_b")


def test_every_action_a_person_takes_needs_its_role_and_changes_nothing_when_refused(session, proposed):
    """An officer delivers warnings; they do not record register checks, merge subjects, classify
    files, import banks or close investigations."""
    warning, links = proposed
    (report_id,) = flows.covered_reports(session, warning.id)
    officer = Actor("cor", roles=["officer"])
    session.commit()
    refused = {
        "record": lambda: triage.record_birth_date(session, report_id, date(1980, 5, 4), source="BRP", actor=officer,
                                                   note="BRP", links=links),
        "change_subjects": lambda: actions.merge(session, 7, 8, actor=officer, reason="same person"),
        "classify": lambda: media.classify_file(session, 1, "child_abuse", actor=officer, reason="seen"),
        "import_bank": lambda: media.import_bank(session, "bank.csv", name="b", actor=officer),
        "close": lambda: registry.close_investigation(session, 1, actor=officer, reason="done"),
    }
    before = session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    for action, call in refused.items():
        with pytest.raises(NotAllowed, match=f"cor may not {action}: that needs the role"), command(session):
            call()
    assert session.execute(select(func.count()).select_from(AuditEvent)).scalar() == before


ACCOUNTS = """accounts:
  - {id: a.jansen, name: A. Jansen, roles: [analyst], units: [Rotterdam]}
  - {id: B.de-Vries, name: B. de Vries, roles: [team_lead]}
"""


def test_the_accounts_file_gives_roles_units_and_names(tmp_path):
    path = tmp_path / "accounts.yaml"
    path.write_text(ACCOUNTS, encoding="utf-8")
    jansen = local_actor(" A.Jansen", str(path))
    assert (jansen, jansen.display_name, jansen.roles, jansen.units) == (
        "a.jansen", "A. Jansen", frozenset({"analyst"}), frozenset({"Rotterdam"}))
    assert local_actor("b.de-vries", str(path)).roles == {"team_lead"}
    with pytest.raises(NotAllowed, match="has no account"):
        local_actor("c.bakker", str(path))
    assert local_actor("c.bakker", None).roles == set(ROLES)


def _cli(monkeypatch, tmp_path, env: dict, args: list[str]):
    monkeypatch.setenv("TIPTRIAGE_DATABASE_URL", f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()


def test_the_cli_refuses_an_actor_that_is_not_an_id_or_has_no_account(monkeypatch, tmp_path):
    assert _cli(monkeypatch, tmp_path, {}, ["db", "upgrade"]).exit_code == 0
    bad = _cli(monkeypatch, tmp_path, {"TIPTRIAGE_ACTOR": "\u0430nna"}, ["queue"])
    assert bad.exit_code == 2 and "is geen gebruikersnaam" in bad.output
    path = tmp_path / "accounts.yaml"
    path.write_text(ACCOUNTS, encoding="utf-8")
    stranger = _cli(monkeypatch, tmp_path, {"TIPTRIAGE_ACTOR": "c.bakker", "TIPTRIAGE_ACCOUNTS_FILE": str(path)},
                    ["queue"])
    assert stranger.exit_code == 1 and "heeft geen account" in stranger.output
    analyst = _cli(monkeypatch, tmp_path, {"TIPTRIAGE_ACTOR": "a.jansen", "TIPTRIAGE_ACCOUNTS_FILE": str(path)},
                   ["warnings", "approve", "1"])
    assert analyst.exit_code == 1 and "Traceback" not in analyst.output
