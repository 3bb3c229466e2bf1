"""The linkage model without a database: levels, weights, guards, and agreement with Splink itself."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from tiptriage.intake.domain import Address, Identifier, IpEvent, ReportedPerson
from tiptriage.subjects import features, linkage
from tiptriage.subjects.identifiers import normalise_person

AT = datetime(2023, 5, 1, 12, tzinfo=UTC)


def rec(
    uid: int,
    given=None,
    family=None,
    dob=None,
    emails=(),
    phones=(),
    account=None,
    screen=None,
    address=None,
    ips=(),
    age=None,
) -> dict:
    ids = tuple(Identifier("email", e) for e in emails) + tuple(Identifier("phone", p) for p in phones)
    ids += (Identifier("esp_user_id", account, None, "kwebbel"),) if account else ()
    ids += (Identifier("screen_name", screen, None, "kwebbel"),) if screen else ()
    addresses = (Address(*address, "NL"),) if address else ()
    person = ReportedPerson(
        "p1",
        "reported",
        given,
        family,
        dob,
        age,
        ids,
        addresses,
        tuple(IpEvent(ip, "Login", at) for ip, at in ips),
    )
    return features.record(uid, normalise_person(person, incident_at=AT, default_platform="kwebbel"))


@pytest.fixture(scope="module")
def model() -> linkage.Model:
    return linkage.load(linkage.packaged_document())


def levels(model, a, b) -> dict:
    return linkage.score(model, a, b).levels


def test_the_packaged_model_fits_the_fields(model):
    assert [cf.field.name for cf in model.fields] == [f.name for f in linkage.FIELDS]
    assert model.thresholds.link > model.thresholds.review
    # Agreement on an identifier is evidence for, disagreement on a birth date evidence against.
    by_name = {cf.field.name: cf for cf in model.fields}
    assert by_name["email"].weights[1] > 0 > by_name["birth"].weights[-1]


def test_name_levels_see_through_nicknames_swaps_and_tussenvoegsels(model):
    kees = rec(1, "Kees", "van der Berg")
    assert levels(model, kees, rec(2, "Cornelis", "Berg, van der"))["given_name"] == "same"
    assert levels(model, kees, rec(2, "Cornelis", "Berg, van der"))["family_name"] == "same"
    swapped = levels(model, rec(1, "Zakaria", "van Leeuwen"), rec(2, "van Leeuwen", "Zakaria"))
    assert swapped["given_name"] == swapped["family_name"] == "given and family name swapped"
    assert levels(model, rec(1, "Jan", "Smit"), rec(2, "Jan", "Smid"))["family_name"] == "sounds the same"
    assert levels(model, rec(1, "Jan", "Jansen"), rec(2, None, None))["given_name"] == "missing"


def test_birth_levels(model):
    day = date(1990, 3, 5)
    assert levels(model, rec(1, dob=day), rec(2, dob=day))["birth"] == "same date"
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1990, 5, 3)))["birth"] == "day and month swapped"
    assert (
        levels(model, rec(1, dob=day), rec(2, dob=date(1990, 1, 1)))["birth"]
        == "same year, one a 1 January default"
    )
    assert levels(model, rec(1, dob=day), rec(2, age=33))["birth"] == "consistent (age, month or year only)"
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1990, 7, 9)))["birth"] == "same year, other day"
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1995, 3, 5)))["birth"] == "conflict"


def test_ip_counts_public_addresses_more_the_closer_in_time(model):
    close = levels(model, rec(1, ips=[("94.210.1.2", AT)]), rec(2, ips=[("94.210.1.2", AT.replace(hour=13))]))
    assert close["ip"] == "same address within hours"
    later = AT.replace(day=2)
    assert (
        levels(model, rec(1, ips=[("94.210.1.2", AT)]), rec(2, ips=[("94.210.1.2", later)]))["ip"]
        == "same address within days"
    )
    far = AT.replace(month=9)
    assert (
        levels(model, rec(1, ips=[("94.210.1.2", AT)]), rec(2, ips=[("94.210.1.2", far)]))["ip"]
        == "same address, other time"
    )
    assert (
        levels(model, rec(1, ips=[("94.210.1.2", AT)]), rec(2, ips=[("94.210.1.3", AT)]))["ip"]
        == "no shared address"
    )
    weights = {cf.field.name: dict(zip((lv.label for lv in cf.field.levels), cf.weights)) for cf in model.fields}
    ip = weights["ip"]
    assert ip["same address within hours"] > ip["no shared address"] and ip["same address, other time"] > 0
    # CGNAT: the same address at the same moment says nothing.
    assert (
        levels(model, rec(1, ips=[("100.64.1.2", AT)]), rec(2, ips=[("100.64.1.2", AT)]))["ip"] == "missing"
    )


def test_twins_are_held_back_unless_an_own_identifier_agrees(model):
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    twin_a = rec(1, "Daan", "Visser", date(2001, 4, 2), address=home)
    twin_b = rec(2, "Sem", "Visser", date(2001, 4, 2), address=home)
    scored = linkage.score(model, twin_a, twin_b)
    assert scored.match_weight > model.thresholds.link  # the weights alone would link them
    assert "given_name_conflict" in scored.guards
    assert linkage.classify(model, scored) == "review"
    same_mail = linkage.score(
        model, rec(1, "Daan", "Visser", emails=["d@x.nl"]), rec(2, "Sem", "Visser", emails=["d@x.nl"])
    )
    assert "given_name_conflict" not in same_mail.guards


def test_one_kind_of_evidence_alone_never_links(model):
    scored = linkage.score(model, rec(1, screen="panda_mike"), rec(2, screen="panda_mike"))
    assert scored.guards == ("uncorroborated",)
    assert linkage.classify(model, scored) != "link"


def test_evidence_lists_every_field_with_both_sides(model):
    scored = linkage.score(model, rec(1, "Jan", "Jansen", emails=["jan@x.nl"]), rec(2, "Jan", "Jansen"))
    doc = scored.as_dict()
    assert [f["field"] for f in doc["fields"]] == [f.name for f in linkage.FIELDS]
    email = next(f for f in doc["fields"] if f["field"] == "email")
    assert (
        email["level"] == "missing" and email["left"] == {"emails": ["jan@x.nl"]} and email["right"] is None
    )
    assert math.isclose(doc["match_weight"], scored.match_weight, abs_tol=1e-3)


def _pairs() -> list[tuple[dict, dict]]:
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    people = [
        rec(1, "Kees", "van der Berg", date(1980, 2, 3), emails=["kees@x.nl"], address=home),
        rec(2, "Cornelis", "Berg", date(1980, 3, 2), phones=["0612345678"], account="123456"),
        rec(3, "Kees", "Bergh", age=43, emails=["kees@x.nl"], ips=[("94.210.1.2", AT)]),
        rec(
            4,
            "Berg",
            "Kees",
            date(1980, 1, 1),
            screen="kees80",
            address=("Dorpsstraat 12", "1234AB", "Utrecht"),
        ),
        rec(5, None, None, None, account="123456", ips=[("94.210.1.2", AT.replace(hour=13))]),
        rec(6, "J.", "Smit", date(1975, 6, 7), address=("Kerkweg 1", "3511 AA", "Utrecht")),
        rec(7, "Jan", "Smid", date(1975, 6, 7), address=("Kerkweg 2", "3511 AA", "Utrecht")),
    ]
    return [(a, b) for i, a in enumerate(people) for b in people[i + 1 :]]


def test_the_fast_path_gives_splinks_levels_and_weights(model):
    """Same pair, same model: Splink's score_pairs and the fast path agree on every level and weight."""
    from splink import DuckDBAPI, Linker

    pairs = _pairs()
    records = [r for pair in pairs for r in pair]
    tf_values = {"given": 0.02, "family": 0.005}

    def with_tf(r: dict) -> dict:
        return r | {f"tf_{c}": tf_values[c] if r[c] is not None else None for c in linkage.TF_COLUMNS}

    api = DuckDBAPI()
    linker = Linker(
        linkage.register(api, list({r["unique_id"]: r for r in records}.values()), "duckdb"),
        model.splink_settings,
        log_level=None,
    )
    frame = linker.inference.score_pairs(
        [with_tf(a) for a, _ in pairs], [with_tf(b) for _, b in pairs]
    ).as_pandas_dataframe()
    rows = {(r["unique_id_l"], r["unique_id_r"]): r for r in frame.to_dict("records")}
    for a, b in pairs:
        row = rows[(a["unique_id"], b["unique_id"])]
        ours = linkage.score(model, a, b, lambda c, v: tf_values[c])
        for cf in model.fields:
            gamma = int(row[f"gamma_{cf.field.name}"])
            index = 0 if gamma == -1 else len(cf.field.levels) - 1 - gamma
            assert ours.levels[cf.field.name] == cf.field.levels[index].label, (
                a["unique_id"],
                b["unique_id"],
            )
        assert math.isclose(ours.match_weight, row["match_weight"], abs_tol=1e-6), (
            a["unique_id"],
            b["unique_id"],
        )
