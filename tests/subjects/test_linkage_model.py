"""The linkage model without a database: levels, weights, guards, and agreement with Splink itself."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import jellyfish
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tiptriage.intake.domain import Address, Identifier, IpEvent, ReportedPerson
from tiptriage.subjects import features, linkage
from tiptriage.subjects.identifiers import canonical_given_name, known_given_name_forms, normalise_person

from . import strategies as gen

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
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1972, 3, 5)))["birth"] == "conflict"


def test_a_record_stored_before_the_variants_column_still_scores(model):
    """Records in `subject_records` from before `given_forms` existed: no variant, no error."""
    stored = rec(1, "Jo", "Smit")
    del stored["given_forms"]
    assert levels(model, stored, rec(2, "Johanna", "Smit"))["given_name"] == "same initial"
    assert levels(model, rec(2, "Johanna", "Smit"), stored)["given_name"] == "same initial"


def test_a_birth_date_with_a_typing_error_is_similar_not_a_conflict(model):
    """One digit wrong, or two neighbouring digits swapped: weighed by the model, never a conflict."""
    day = date(1989, 3, 12)
    for typed in (date(1988, 3, 12), date(1998, 3, 12), date(1989, 3, 21), date(1989, 8, 12)):
        scored = linkage.score(model, rec(1, dob=day), rec(2, dob=typed))
        assert scored.levels["birth"] == linkage.BIRTH_TYPING_ERROR, typed
        assert "birth_conflict" not in scored.guards
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1989, 12, 3)))["birth"] == "day and month swapped"
    assert levels(model, rec(1, dob=day), rec(2, dob=date(1975, 6, 30)))["birth"] == "conflict"


def test_given_names_that_are_similar_are_not_a_conflict(model):
    assert levels(model, rec(1, "Johanna"), rec(2, "Jo"))["given_name"] == linkage.NICKNAME
    assert levels(model, rec(1, "Cornelis"), rec(2, "Cor"))["given_name"] == linkage.NICKNAME
    for typed in ("Mraloes", "Marlos", "Marlooes", "Marloez"):
        assert levels(model, rec(1, "Marloes"), rec(2, typed))["given_name"] == linkage.TYPING_ERROR, typed
    # Another first letter, a short name, two names the variants table knows: names of their own.
    assert levels(model, rec(1, "Boris"), rec(2, "Joris"))["given_name"] == "similar spelling"
    assert levels(model, rec(1, "Sem"), rec(2, "Sam"))["given_name"] == "similar spelling"
    assert levels(model, rec(1, "Cornelis"), rec(2, "Cornelia"))["given_name"] == "similar spelling"
    assert levels(model, rec(1, "J."), rec(2, "Jan"))["given_name"] == "same initial"
    scored = linkage.score(model, rec(1, "Marloes"), rec(2, "Marlos"))
    assert "given_name_conflict" not in scored.guards
    assert "given_name_conflict" in linkage.score(model, rec(1, "Marloes"), rec(2, "Fatima")).guards


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
    assert linkage.register_check(scored.guards) == "BRP"  # the review says where it is settled


def test_a_typing_error_at_home_is_a_question_for_the_register_where_a_twin_is_too(model):
    """Same family name, birth date, address and connection: a given name one typing error away may
    be the same person or a twin (Joël and Joep), so it is no conflict but a review that names the
    BRP; with a personal identifier in common it links. A given name of its own is a twin."""
    home = ("Dorpsstraat 12", "1234 AB", "Utrecht")
    ips = [("94.210.1.2", AT)]
    first = rec(1, "Marloes", "Visser", date(2001, 4, 2), address=home, ips=ips)
    typed = linkage.score(model, first, rec(2, "Marlose", "Visser", date(2001, 4, 2), address=home, ips=ips))
    assert linkage.classify(model, typed) == "review" and linkage.register_check(typed.guards) == "BRP"
    assert "given_name_conflict" not in typed.guards
    mailed = linkage.score(model, rec(1, "Marloes", "Visser", date(2001, 4, 2), ["m@x.nl"], address=home, ips=ips),
                           rec(2, "Marlose", "Visser", date(2001, 4, 2), ["m@x.nl"], address=home, ips=ips))
    assert linkage.classify(model, mailed) == "link" and mailed.guards == ()
    born = linkage.score(model, first, rec(2, "Marloes", "Visser", date(2001, 4, 20), address=home, ips=ips))
    assert linkage.classify(model, born) == "link" and born.guards == ()
    twin = linkage.score(model, first, rec(2, "Fenna", "Visser", date(2001, 4, 2), address=home, ips=ips))
    assert linkage.classify(model, twin) != "link" and linkage.register_check(twin.guards) == "BRP"
    # Boy and girl twins whose names the variants table knows apart.
    boy = rec(1, "Cornelis", "Visser", date(2001, 4, 2), address=home, ips=ips)
    girl = linkage.score(model, boy, rec(2, "Cornelia", "Visser", date(2001, 4, 2), address=home, ips=ips))
    assert linkage.classify(model, girl) != "link"


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
        # Similar given names and birth dates: nickname, typing errors, Jaro–Winkler, known names.
        rec(8, "Jo", "Smit", date(1975, 6, 17)),
        rec(9, "Johanna", "Smit", date(1957, 6, 7)),
        rec(10, "Johnana", "Smit", date(1975, 7, 6)),
        rec(11, "Cornelia", "Smid", date(1976, 6, 7)),
        rec(12, "Cornelis", "Smid", date(1975, 6, 7)),
        rec(13, "Cornelius", "Smid", date(1975, 6, 8)),
        rec(14, "Alexandrina", "Bergh", age=48),
        rec(15, "Alexandra", "Bergh", date(1975, 1, 1)),
        rec(16, "Bartholomeus", "Bergh", date(1975, 6, 7)),
        rec(17, "Bartolomeo", "Berg", date(1957, 6, 7)),
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


# --- Properties: a typing error links, a twin or a sibling does not ------------------------------

HOME = ("Dorpsstraat 12", "1234 AB", "Utrecht")
HOME_IPS = [("94.210.1.2", AT)]
# Names of five or more plain letters: a typing error leaves four, the first letter stays.
plain_given_names = gen.given_names.filter(lambda n: n.isascii() and n.isalpha() and len(n) >= 5)


@st.composite
def typed(draw, name: str) -> str:
    """The name with one typing error inside it: two neighbouring letters swapped, one dropped,
    doubled or replaced; the first letter stays (the keyboard slips, the ear does not)."""
    i = draw(st.integers(1, len(name) - 2))
    kind = draw(st.sampled_from(("swap", "drop", "double", "replace")))
    if kind == "swap":
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    elif kind == "drop":
        out = name[:i] + name[i + 1 :]
    elif kind == "double":
        out = name[:i] + name[i] + name[i:]
    else:
        out = name[:i] + draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz")) + name[i + 1 :]
    assume(out.lower() != name.lower())
    return out


@st.composite
def mistyped_dates(draw, day: date) -> date:
    """The date with one digit wrong, two neighbouring digits of one part swapped, or day and month
    swapped: any of these that is a date at all."""
    digits = day.strftime("%Y%m%d")
    kind = draw(st.sampled_from(("digit", "swap", "day_month")))
    if kind == "day_month":
        out = f"{digits[:4]}{digits[6:]}{digits[4:6]}"
    elif kind == "digit":
        i = draw(st.integers(0, 7))
        out = digits[:i] + draw(st.sampled_from("0123456789")) + digits[i + 1 :]
    else:
        i = draw(st.sampled_from((0, 1, 2, 4, 6)))  # neighbours within the year, the month or the day
        out = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    assume(out != digits)
    try:
        return date(int(out[:4]), int(out[4:6]), int(out[6:]))
    except ValueError:
        assume(False)


def _at_home(uid: int, given_name, family, born, emails=()) -> dict:
    return rec(uid, given_name, family, born, address=HOME, ips=HOME_IPS, emails=emails)


def _names_of_their_own(a: str, b: str) -> bool:
    """Two given names that are not one name: other baptismal forms, no variant in common, and not
    one typing error apart (twins called Anna and Anne look like a typing error to anyone but the
    register; the reports cannot tell them apart)."""
    x, y = a.lower(), b.lower()
    return (
        canonical_given_name(x) != canonical_given_name(y)
        and not known_given_name_forms(x) & known_given_name_forms(y)
        and jellyfish.damerau_levenshtein_distance(x, y) > 1
    )


@given(data=st.data(), name=plain_given_names, family=gen.family_cores, born=gen.birth_dates)
def test_a_given_name_with_a_typing_error_is_similar_at_home_and_links_with_an_identifier(model, data, name,
                                                                                         family, born):
    other = data.draw(typed(name))
    assume(not (known_given_name_forms(name) and known_given_name_forms(other)))  # two names of the table
    scored = linkage.score(model, _at_home(1, name, family, born), _at_home(2, other, family, born))
    assert scored.levels["given_name"] in ("same", linkage.NICKNAME, linkage.TYPING_ERROR)
    assert "given_name_conflict" not in scored.guards
    assert linkage.classify(model, scored) in ("link", "review"), scored.as_dict()
    with_mail = linkage.score(model, _at_home(1, name, family, born, ["a@x.nl"]),
                              _at_home(2, other, family, born, ["a@x.nl"]))
    assert linkage.classify(model, with_mail) == "link", with_mail.as_dict()


@given(data=st.data(), name=gen.given_names, family=gen.family_cores, born=gen.birth_dates)
def test_a_birth_date_with_a_typing_error_links_at_home(model, data, name, family, born):
    other = data.draw(mistyped_dates(born))
    scored = linkage.score(model, _at_home(1, name, family, born), _at_home(2, name, family, other))
    assert "birth_conflict" not in scored.guards
    assert linkage.classify(model, scored) == "link", scored.as_dict()


@given(first=gen.given_names, second=gen.given_names, family=gen.family_cores, born=gen.birth_dates)
def test_twins_do_not_link_and_the_review_names_the_register(model, first, second, family, born):
    assume(_names_of_their_own(first, second))
    scored = linkage.score(model, _at_home(1, first, family, born), _at_home(2, second, family, born))
    assert linkage.classify(model, scored) != "link", scored.as_dict()
    assert linkage.register_check(scored.guards) == "BRP"


@given(
    first=gen.given_names,
    second=gen.given_names,
    family=gen.family_cores,
    born=gen.birth_dates,
    years=st.sampled_from((-3, -2, -1, 1, 2, 3)),
)
def test_siblings_do_not_link(model, first, second, family, born, years):
    """One to three years apart on the same day of the year (one digit of the year, often)."""
    assume(_names_of_their_own(first, second))
    younger = date(born.year + years, born.month, min(born.day, 28))
    scored = linkage.score(model, _at_home(1, first, family, born), _at_home(2, second, family, younger))
    assert linkage.classify(model, scored) != "link", scored.as_dict()
