"""`tiptriage subjects train` on any store: without identifiers, of ten reports, and one where no
deterministic rule finds a pair. Each ends with a clear message and a model that links."""

from __future__ import annotations

import json
from datetime import date

from typer.testing import CliRunner

from tiptriage.accounts.actor import Actor
from tiptriage.cli import app
from tiptriage.db import make_engine, session_factory
from tiptriage.subjects import linkage, linking, model_store

from subjects.dbdata import add_report

NAMES = [("Daan", "Visser"), ("Sanne", "Bakker"), ("Ravi", "Jansen"), ("Noor", "de Vries"), ("Milan", "Smit"),
         ("Lotte", "Mulder"), ("Bram", "Peters"), ("Fleur", "Hendriks"), ("Sem", "Dekker"), ("Iris", "Bos"),
         ("Jesse", "Vos"), ("Eva", "Meijer"), ("Luuk", "Willems"), ("Julia", "van Dijk"), ("Thijs", "Kok"),
         ("Anna", "Jacobs"), ("Ruben", "de Graaf"), ("Emma", "van Leeuwen"), ("Tim", "Brouwer"), ("Zoë", "Schouten"),
         ("Stijn", "Prins"), ("Lisa", "Huisman"), ("Koen", "Kuipers"), ("Femke", "Post"), ("Joris", "Kramer"),
         ("Maud", "Verhoeven"), ("Niels", "Koster"), ("Sara", "Wouters"), ("Pim", "van Beek"), ("Roos", "Maas")]


def store(url: str, people: int, *, times: int = 2, identifiers: bool = False) -> None:
    """`people` persons, each reported `times` times (with a mailbox of each report's own when
    `identifiers`: no two records then share an identifier), linked as ingest links them."""
    engine = make_engine(url)
    with session_factory(engine)() as s:
        reports = []
        for k in range(people):
            given, family = NAMES[k % len(NAMES)]
            born = date(1970 + k % 30, 1 + k % 12, 1 + k % 28)
            for n in range(times):
                emails = (f"p{k}r{n}@example.nl",) if identifiers else ()
                reports.append(add_report(s, given=given, family=f"{family}{k // len(NAMES) or ''}", dob=born,
                                          emails=emails, address=(f"Dorpsstraat {k + 1}", "1234AB", "Utrecht"))[0])
        linking.resolve_reports(s, reports, actor=Actor("test"))
        s.commit()
    engine.dispose()


def train(*options: str):
    result = CliRunner().invoke(app, ["subjects", "train", *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def links_a_new_report(url: str) -> str:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        linkage.compile_model(model_store.active_model(s).document)  # a model the fast path can use
        report, _ = add_report(s, given="Sanne", family="Bakker", dob=date(1971, 2, 2),
                               address=("Dorpsstraat 2", "1234AB", "Utrecht"))
        decision = linking.resolve_reports(s, [report], actor=Actor("test"))[0].decision
        s.commit()
    engine.dispose()
    return decision


def test_a_store_without_identifiers_keeps_the_prior_and_says_so(cli_env):
    store(cli_env, 40)
    doc = json.loads(train("--json").stdout)
    assert doc["activated"] and doc["trained"]["records"] == 80
    kept = {k["what"] for k in doc["kept"]}
    assert {"prior", "em_session"} <= kept
    assert doc["changes"]["prior"]["before"] == doc["changes"]["prior"]["after"]
    assert doc["changes"]["thresholds"]["before"] == doc["changes"]["thresholds"]["after"]
    assert any(row["m_before"] != row["m_after"] for row in doc["changes"]["levels"])
    assert links_a_new_report(cli_env) == "linked"


def test_ten_reports_train_nothing_and_the_model_in_use_stays(cli_env):
    store(cli_env, 5)
    doc = json.loads(train("--json").stdout)
    assert not doc["activated"]
    assert doc["version"] == linkage.packaged_document()["version"]
    assert doc["kept"] == [{"what": "too_few_records", "records": 10, "needed": linkage.MIN_TRAINING_RECORDS}]
    out = train().stdout
    assert "Too few records to train on (10; at least 50 are needed)" in out
    assert links_a_new_report(cli_env) == "linked"


def test_no_deterministic_rule_finds_a_pair_the_prior_is_kept_in_dutch(cli_env, monkeypatch):
    store(cli_env, 30, identifiers=True)
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    out = train().stdout
    assert "getraind op 60 records en in gebruik" in out
    assert "Geen vaste regel" in out and "a-priorikans van het model in gebruik blijft" in out
    assert "Wijzigingen ten opzichte van model" in out and "m en u per vergelijkingsniveau" in out
    assert links_a_new_report(cli_env) == "linked"
