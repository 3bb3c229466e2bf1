"""The linkage model: fields and their levels of agreement, Splink training, and the fast path.

A Fellegi–Sunter model: for each field, a comparison of two records lands in one level of
agreement; each level has an m probability (how often true matches land there) and a u
probability (how often non-matches do), and log2(m/u) is the level's weight. A pair's match weight
is the prior weight plus the weights of its levels; exact name levels are term-frequency adjusted
(a shared "de Jong" says less than a shared "Wijnaldum").

Every level is defined twice, once for Splink (SQL that DuckDB and Spark run) and once in Python
for the fast path, and the two are held together by the tests: Splink's own `score_pairs` and
`score` here give the same level and weight for the same pair. Training (unsupervised: random
sampling for u, expectation maximisation for m) and batch relinking run in Splink; linking one new
report uses the weights of the same model JSON, read through Splink's own classes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jellyfish

from tiptriage.i18n import N_

MODEL_FORMAT = "tiptriage-linkage-model/1"
# Identifiers that belong to one person; their agreement lifts the guards (see `guards`).
UNIQUE_FIELDS = (N_("email"), N_("phone"), N_("account"))
SWAPPED = N_("given and family name swapped")  # the level both name comparisons have
NICKNAME = N_("known nickname or variant")
TYPING_ERROR = N_("one typing error")


# ---------------------------------------------------------------------------------------------
# Levels: Splink's SQL and the Python mirror, side by side


@dataclass(frozen=True)
class Level:
    label: str
    splink: Callable[[], Any]  # a Splink ComparisonLevelCreator, built lazily (Splink imports are slow)
    test: Callable[[Mapping, Mapping], bool]
    null: bool = False
    tf: str | None = None  # the column whose term frequency adjusts this level


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    columns: tuple[str, ...]  # what evidence shows of each side
    levels: tuple[Level, ...]  # most specific first; a null level first, an else level last

    def level_of(self, a: Mapping, b: Mapping) -> int:
        for index, level in enumerate(self.levels):
            if level.test(a, b):
                return index
        raise AssertionError(f"{self.name}: no level matched (the last level must be the else level)")


def _cll():
    import splink.comparison_level_library as cll

    return cll


def _null(col: str) -> Level:
    return Level(
        N_("missing"),
        lambda: _cll().NullLevel(col).configure(label_for_charts="missing"),
        lambda a, b: a[col] is None or b[col] is None,
        null=True,
    )


def _exact(col: str, label: str, tf: bool = False) -> Level:
    def creator():
        return _cll().ExactMatchLevel(col, term_frequency_adjustments=tf).configure(label_for_charts=label)

    return Level(label, creator, lambda a, b: a[col] is not None and a[col] == b[col], tf=col if tf else None)


def _reversed(first: str, second: str, label: str) -> Level:
    def creator():
        return _cll().ColumnsReversedLevel(first, second, symmetrical=True).configure(label_for_charts=label)

    def test(a, b):
        return None not in (a[first], a[second]) and a[first] == b[second] and a[second] == b[first]

    return Level(label, creator, test)


def _levenshtein(col: str, distance: int, label: str) -> Level:
    def creator():
        return _cll().LevenshteinLevel(col, distance).configure(label_for_charts=label)

    def test(a, b):
        return (
            a[col] is not None
            and b[col] is not None
            and jellyfish.levenshtein_distance(a[col], b[col]) <= distance
        )

    return Level(label, creator, test)


def _one_typing_error(a, b) -> bool:
    """Given names one typing error apart (a letter wrong, missing, doubled or two swapped), with
    the first letter and four letters each: shorter names and other first letters are as often
    names of their own (Sem and Sam, Boris and Joris). Two names the variants table knows with no
    baptismal form in common are two names (Cornelis and Cornelia), not a typing error."""
    x, y = a["given_word"], b["given_word"]
    return (
        x is not None
        and y is not None
        and x[0] == y[0]
        and min(len(x), len(y)) >= 4
        and not (a.get("given_forms") and b.get("given_forms"))
        and jellyfish.damerau_levenshtein_distance(x, y) <= 1
    )


def _typing_error_level() -> Level:
    def creator():
        cll = _cll()
        shape = (
            "substr(given_word_l, 1, 1) = substr(given_word_r, 1, 1) AND length(given_word_l) >= 4 "
            "AND length(given_word_r) >= 4 AND (given_forms_l IS NULL OR given_forms_r IS NULL)"
        )
        return cll.And(cll.CustomLevel(shape), cll.DamerauLevenshteinLevel("given_word", 1)).configure(
            label_for_charts=TYPING_ERROR
        )

    return Level(TYPING_ERROR, creator, _one_typing_error)


def _similar_spelling(col: str, label: str) -> Level:
    """Within two edits or a Jaro–Winkler similarity of 0.9: weighed, never the same name."""

    def creator():
        cll = _cll()
        return cll.Or(cll.LevenshteinLevel(col, 2), cll.JaroWinklerLevel(col, 0.9)).configure(
            label_for_charts=label
        )

    def test(a, b):
        x, y = a[col], b[col]
        return (
            x is not None
            and y is not None
            and (jellyfish.levenshtein_distance(x, y) <= 2 or jellyfish.jaro_winkler_similarity(x, y) >= 0.9)
        )

    return Level(label, creator, test)


def _intersect(col: str, label: str = "agree") -> Level:
    def creator():
        return _cll().ArrayIntersectLevel(col, 1).configure(label_for_charts=label)

    # .get: a record stored before its column existed (given_forms) has no such value
    return Level(
        label, creator, lambda a, b: bool(a.get(col) and b.get(col) and not set(a[col]).isdisjoint(b[col]))
    )


def _custom(sql: str, label: str, test: Callable[[Mapping, Mapping], bool], null: bool = False) -> Level:
    def creator():
        level = _cll().CustomLevel(sql, label_for_charts=label)
        return level.configure(is_null_level=True) if null else level

    return Level(label, creator, test, null=null)


def _else(label: str = N_("different")) -> Level:
    return Level(label, lambda: _cll().ElseLevel().configure(label_for_charts=label), lambda a, b: True)


# Birth dates: ISO strings compare as dates; `dob_kind` is the precision (day, month, year, range).
def _both_days(a, b) -> bool:
    return a["dob_kind"] == "day" and b["dob_kind"] == "day"


def _same_year(a, b) -> bool:
    return a["dob_lo"][:4] == b["dob_lo"][:4]


_BOTH_DAYS_SQL = "dob_kind_l = 'day' AND dob_kind_r = 'day'"
_SAME_YEAR_SQL = "substr(dob_lo_l, 1, 4) = substr(dob_lo_r, 1, 4)"


BIRTH_TYPING_ERROR = N_("one digit wrong or two digits swapped")


def _birth_typing_error() -> Level:
    """Two full dates one digit apart, or with two neighbouring digits swapped (1989 and 1998,
    12 and 21): a typing error, weighed by the model, not a conflict."""

    def creator():
        cll = _cll()
        return cll.And(cll.CustomLevel(_BOTH_DAYS_SQL), cll.DamerauLevenshteinLevel("dob_lo", 1)).configure(
            label_for_charts=BIRTH_TYPING_ERROR
        )

    def test(a, b):
        return _both_days(a, b) and jellyfish.damerau_levenshtein_distance(a["dob_lo"], b["dob_lo"]) <= 1

    return Level(BIRTH_TYPING_ERROR, creator, test)


def _birth_levels() -> tuple[Level, ...]:
    return (
        _null("dob_lo"),
        _custom(
            f"{_BOTH_DAYS_SQL} AND dob_lo_l = dob_lo_r",
            N_("same date"),
            lambda a, b: _both_days(a, b) and a["dob_lo"] == b["dob_lo"],
        ),
        _custom(
            f"{_BOTH_DAYS_SQL} AND {_SAME_YEAR_SQL} AND substr(dob_lo_l, 6, 2) = substr(dob_lo_r, 9, 2) "
            "AND substr(dob_lo_l, 9, 2) = substr(dob_lo_r, 6, 2)",
            N_("day and month swapped"),
            lambda a, b: (
                _both_days(a, b)
                and _same_year(a, b)
                and a["dob_lo"][5:7] == b["dob_lo"][8:10]
                and a["dob_lo"][8:10] == b["dob_lo"][5:7]
            ),
        ),
        # 1 January is what platforms fill in when they know only the year.
        _custom(
            f"{_BOTH_DAYS_SQL} AND {_SAME_YEAR_SQL} AND (substr(dob_lo_l, 6, 5) = '01-01' "
            "OR substr(dob_lo_r, 6, 5) = '01-01')",
            N_("same year, one a 1 January default"),
            lambda a, b: (
                _both_days(a, b) and _same_year(a, b) and "01-01" in (a["dob_lo"][5:10], b["dob_lo"][5:10])
            ),
        ),
        _birth_typing_error(),
        _custom(
            f"NOT ({_BOTH_DAYS_SQL}) AND dob_lo_l <= dob_hi_r AND dob_lo_r <= dob_hi_l",
            N_("consistent (age, month or year only)"),
            lambda a, b: not _both_days(a, b) and a["dob_lo"] <= b["dob_hi"] and b["dob_lo"] <= a["dob_hi"],
        ),
        _custom(_SAME_YEAR_SQL, N_("same year, other day"), _same_year),
        _else(N_("conflict")),
    )


_ADDRESS_NULL_SQL = (
    "(addresses_l IS NULL AND postcodes_l IS NULL AND cities_l IS NULL) OR "
    "(addresses_r IS NULL AND postcodes_r IS NULL AND cities_r IS NULL)"
)


def _no_address(rec) -> bool:
    return rec["addresses"] is None and rec["postcodes"] is None and rec["cities"] is None


def _identifier(name: str, col: str, description: str) -> Field:
    return Field(name, description, (col,), (_null(col), _intersect(col, N_("same")), _else()))


FIELDS: tuple[Field, ...] = (
    Field(
        N_("given_name"),
        "First given name (baptismal form: Kees = Cornelis), term-frequency adjusted",
        ("given_word", "given"),
        (
            _null("given_initial"),
            _exact("given", N_("same"), tf=True),
            _reversed("given_word", "family", SWAPPED),
            _intersect("given_forms", NICKNAME),
            _typing_error_level(),
            _similar_spelling("given_word", N_("similar spelling")),
            _exact("given_initial", N_("same initial")),
            _else(),
        ),
    ),
    Field(
        N_("family_name"),
        "Family name without tussenvoegsels, term-frequency adjusted",
        ("family",),
        (
            _null("family"),
            _exact("family", N_("same"), tf=True),
            _reversed("family", "given_word", SWAPPED),
            _exact("family_sound", N_("sounds the same")),
            _levenshtein("family", 2, N_("one or two typing errors")),
            _else(),
        ),
    ),
    Field(
        N_("birth"),
        "Date of birth, or the range a reported age allows",
        ("dob_lo", "dob_hi", "dob_kind"),
        _birth_levels(),
    ),
    _identifier(N_("email"), "emails", "E-mail mailbox (provider rules applied)"),
    _identifier(N_("phone"), "phones", "Phone number (E.164)"),
    _identifier(N_("account"), "accounts", "Platform user id"),
    _identifier(N_("screen_name"), "screen_names", "Screen name on a platform"),
    _identifier(N_("device"), "devices", "Device id"),
    Field(
        N_("address"),
        "Home address, else postcode, else town",
        ("addresses", "postcodes", "cities"),
        (
            _custom(_ADDRESS_NULL_SQL, N_("missing"), lambda a, b: _no_address(a) or _no_address(b),
                    null=True),
            _intersect("addresses", N_("same address")),
            _intersect("postcodes", N_("same postcode")),
            _intersect("cities", N_("same town")),
            _else(),
        ),
    ),
    Field(
        N_("ip"),
        "Same public IP address, closer in time counts more (never CGNAT, shared ranges or widely "
        "shared addresses)",
        ("ip_addrs",),
        (
            _null("ip_addrs"),
            _intersect("ip_hours", N_("same address within hours")),
            _intersect("ip_days", N_("same address within days")),
            _intersect("ip_addrs", N_("same address, other time")),
            _else(N_("no shared address")),
        ),
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
TF_COLUMNS = ("given", "family")


def splink_comparisons() -> list:
    from splink.comparison_library import CustomComparison

    return [
        CustomComparison(
            [level.splink() for level in f.levels],
            output_column_name=f.name,
            comparison_description=f.description,
        )
        for f in FIELDS
    ]


def settings_creator(**overrides):
    from splink import SettingsCreator, block_on

    options = dict(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=splink_comparisons(),
        # The same keys the fast path looks up in `subject_keys`: pairs that share any key.
        blocking_rules_to_generate_predictions=[
            block_on("keys", arrays_to_explode=["keys"]),
            block_on("ip_addrs", arrays_to_explode=["ip_addrs"]),  # shared addresses dropped before
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )
    options.update(overrides)
    return SettingsCreator(**options)


# ---------------------------------------------------------------------------------------------
# Models: Splink's JSON inside ours, compiled to per-level weights


@dataclass(frozen=True)
class Thresholds:
    link: float  # match weight at or above which a pair links (unless a guard holds it back)
    review: float  # match weight at or above which an analyst is asked

    def as_dict(self) -> dict:
        return {"link": self.link, "review": self.review}


@dataclass(frozen=True)
class CompiledField:
    field: Field
    weights: tuple[float, ...]
    # per level: (tf column, adjustment weight, log2 u of the exact level, minimum u) or None
    tf: tuple[tuple[str, float, float, float] | None, ...]


@dataclass(frozen=True)
class Model:
    version: str
    document: dict
    prior: float  # match weight of the probability that two random records match
    fields: tuple[CompiledField, ...]
    thresholds: Thresholds
    max_ip_fanout: int = 4
    max_key_candidates: int = 50

    @property
    def splink_settings(self) -> dict:
        return self.document["splink"]

    @property
    def exact_u(self) -> dict[str, float]:
        """u probability of the exact level of each term-frequency column."""
        return {info[0]: 2.0 ** info[2] for cf in self.fields for info in cf.tf if info is not None}


def model_version(splink_settings: dict, thresholds: dict) -> str:
    body = json.dumps([splink_settings, thresholds], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def wrap(splink_settings: dict, *, thresholds: Thresholds, trained: dict, guard: dict | None = None) -> dict:
    """Our model document: Splink's saved model, the thresholds and how it was trained."""
    guard = guard or {"max_ip_fanout": 4, "max_key_candidates": 50}
    return {
        "format": MODEL_FORMAT,
        "version": model_version(splink_settings, thresholds.as_dict()),
        "thresholds": thresholds.as_dict(),
        "guard": guard,
        "trained": trained,
        "splink": splink_settings,
    }


def compile_model(document: dict) -> Model:
    """Per-level weights as Splink computes them (its own classes read the JSON)."""
    if document.get("format") != MODEL_FORMAT:
        raise ValueError(f"not a {MODEL_FORMAT} document")
    from splink.internals.misc import prob_to_match_weight
    from splink.internals.settings_creator import SettingsCreator

    settings = SettingsCreator.from_path_or_dict(dict(document["splink"])).get_settings("duckdb")
    by_name = {c.output_column_name: c for c in settings.comparisons}
    compiled = []
    for f in FIELDS:
        comparison = by_name.get(f.name)
        labels = [lvl.label_for_charts for lvl in comparison.comparison_levels] if comparison else None
        if labels != [lvl.label for lvl in f.levels]:
            raise ValueError(
                f"the model's comparison {f.name!r} does not fit this version's fields: {labels}"
            )
        compiled.append(_compile_field(f, comparison.comparison_levels))
    guard = document.get("guard", {})
    thresholds = Thresholds(**document["thresholds"])
    return Model(
        document["version"],
        document,
        prior_weight(settings, prob_to_match_weight),
        tuple(compiled),
        thresholds,
        guard.get("max_ip_fanout", 4),
        guard.get("max_key_candidates", 50),
    )


def prior_weight(settings, prob_to_match_weight) -> float:
    return prob_to_match_weight(settings._probability_two_random_records_match)


def _compile_field(f: Field, levels) -> CompiledField:
    weights, tfs = [], []
    for level in levels:
        weight = level._match_weight
        if weight is None:
            raise ValueError(
                f"{f.name}: level {level.label_for_charts!r} has no trained m and u probabilities"
            )
        weights.append(weight)
        if level._has_tf_adjustments and not level.is_null_level:
            u_exact = level._u_probability_corresponding_to_exact_match(levels)
            tfs.append(
                (
                    level._tf_adjustment_input_column_name,
                    level._tf_adjustment_weight,
                    math.log2(u_exact),
                    level._tf_minimum_u_value,
                )
            )
        else:
            tfs.append(None)
    return CompiledField(f, tuple(weights), tuple(tfs))


@cache
def packaged_document(name: str = "default") -> dict:
    text = resources.files(__package__).joinpath("models", f"{name}.json").read_text("utf-8")
    return json.loads(text)


_COMPILED: dict[str, Model] = {}


def load(document: dict) -> Model:
    """A compiled model, kept by version (the version is a hash of the content): compiling imports
    Splink and reads every level, which the per-report path cannot pay each time."""
    version = document.get("version")
    model = _COMPILED.get(version)
    if model is None:
        model = _COMPILED[version] = compile_model(document)
    return model


# ---------------------------------------------------------------------------------------------
# The fast path: score one pair with the model's weights


@dataclass(frozen=True)
class FieldEvidence:
    field: str
    level: str
    weight: float
    tf_adjustment: float
    left: Any
    right: Any

    def as_dict(self) -> dict:
        return {
            "field": self.field,
            "level": self.level,
            "weight": round(self.weight, 4),
            "tf_adjustment": round(self.tf_adjustment, 4),
            "left": self.left,
            "right": self.right,
        }


@dataclass(frozen=True)
class Scored:
    match_weight: float
    levels: dict[str, str]
    evidence: tuple[FieldEvidence, ...]
    guards: tuple[str, ...] = ()

    @property
    def match_probability(self) -> float:
        return probability(self.match_weight)

    def as_dict(self) -> dict:
        return {
            "match_weight": round(self.match_weight, 4),
            "match_probability": self.match_probability,
            "fields": [e.as_dict() for e in self.evidence],
            "guards": list(self.guards),
        }


def probability(weight: float) -> float:
    # Splink: match_probability = 2^w / (1 + 2^w); written to stay finite for large |w|.
    if weight >= 0:
        return 1.0 / (1.0 + 2.0**-weight)
    power = 2.0**weight
    return power / (1.0 + power)


TermFrequency = Callable[[str, str], float | None]


def _shown(rec: Mapping, columns: tuple[str, ...]) -> Any:
    values = {c: rec[c] for c in columns if rec.get(c) is not None}
    return values or None


def levels_and_weights(
    model: Model, a: Mapping, b: Mapping, tf: TermFrequency | None = None
) -> tuple[float, list[int], list[float]]:
    """The fast path's inner loop: match weight, level index and weight (TF-adjusted) per field."""
    total = model.prior
    indexes, weights = [], []
    for cf in model.fields:
        index = cf.field.level_of(a, b)
        weight = cf.weights[index]
        tf_info = cf.tf[index]
        if tf_info is not None and tf is not None:
            column, tf_weight, log2_u_exact, minimum = tf_info
            value = tf(column, a[column])
            if value is not None:
                weight += tf_weight * (log2_u_exact - math.log2(max(value, minimum)))
        total += weight
        indexes.append(index)
        weights.append(weight)
    return total, indexes, weights


def quick_score(model: Model, a: Mapping, b: Mapping, tf: TermFrequency | None = None) -> tuple[float, tuple]:
    """Match weight and guards of a pair, without building the evidence."""
    total, indexes, weights = levels_and_weights(model, a, b, tf)
    names = [cf.field.name for cf in model.fields]
    levels = {n: cf.field.levels[i].label for n, cf, i in zip(names, model.fields, indexes)}
    return total, guards(levels, dict(zip(names, weights)))


def score(model: Model, a: Mapping, b: Mapping, tf: TermFrequency | None = None) -> Scored:
    """Match weight and per-field evidence of two records, as Splink would compute them."""
    total, indexes, weights = levels_and_weights(model, a, b, tf)
    levels, by_field, evidence = {}, {}, []
    for cf, index, weight in zip(model.fields, indexes, weights):
        label = cf.field.levels[index].label
        levels[cf.field.name] = label
        by_field[cf.field.name] = weight
        evidence.append(
            FieldEvidence(
                cf.field.name,
                label,
                cf.weights[index],
                weight - cf.weights[index],
                _shown(a, cf.field.columns),
                _shown(b, cf.field.columns),
            )
        )
    return Scored(total, levels, tuple(evidence), guards(levels, by_field))


def guards(levels: Mapping[str, str], weights: Mapping[str, float] | None = None) -> tuple[str, ...]:
    """Conditions that hold a pair back from linking automatically, whatever its weight.

    Fellegi–Sunter adds evidence as if fields were independent; in a household they are not: twins
    share family name, birth date, address and home connection, and only the given name tells them
    apart. So a conflicting given name or birth date blocks a link unless an identifier that
    belongs to one person (mailbox, phone number, platform user id) agrees; so does evidence that
    a whole household shares (family name, address, connection, family device, a twin's birth
    date) when nothing of one person agrees with it. And one kind of evidence alone (a screen
    name, a name, a device) never links: it needs a second field, or such an identifier, to
    corroborate it. Held-back pairs can still go to review.
    """
    if any(levels.get(name) == "same" for name in UNIQUE_FIELDS):
        return ()
    found = []
    if levels.get("given_name") == "different":
        found.append(N_("given_name_conflict"))
    if levels.get("birth") == "conflict":
        found.append(N_("birth_conflict"))
    if weights is not None and _positive_fields(weights) < 2:
        found.append(N_("uncorroborated"))
    if weights is not None and _household_only(levels, weights):
        found.append(N_("household_only"))
    return tuple(found)


# Identifiers that belong to one person: a mailbox, a phone number, a platform account or screen name.
PERSONAL_FIELDS = (*UNIQUE_FIELDS, N_("screen_name"))


def one_persons_identifier_agrees(a: Mapping, b: Mapping) -> bool:
    """Whether a mailbox, phone number, account or screen name is the same on both sides."""
    return _same_in_any(a, b, PERSONAL_FIELDS)


def unique_identifier_agrees(a: Mapping, b: Mapping) -> bool:
    """Whether a mailbox, phone number or platform user id is the same: what lifts the guards."""
    return _same_in_any(a, b, UNIQUE_FIELDS)


def _same_in_any(a: Mapping, b: Mapping, names: tuple[str, ...]) -> bool:
    fields = (FIELD_BY_NAME[name] for name in names)
    return any(f.levels[f.level_of(a, b)].label == "same" for f in fields)


# Without an identifier of one person, a record fuses two subjects only on this much evidence (a
# name with an exact birth date and more), never on a name and a birth year (namesakes).
JOIN_WEIGHT = 12.0


def fuses(weight: float, personal: bool) -> bool:
    """Whether a linking pair may also fuse two groups of records (two subjects; two clusters in
    relinking), not only bring one record to a group: the one rule both paths apply."""
    return personal or weight >= JOIN_WEIGHT


# Pseudo-records behind the model's own base rate: a registry of a few hundred records says little
# about how common a name is, so its counts only take over as the registry grows.
TF_PRIOR_RECORDS = 1000


def shrunk_share(count: int, total: int, base: float) -> float:
    """How common a value is among `total` records (`count` with it), shrunk towards the model's
    u probability of an exact match (`base`): the term frequency both paths use."""
    return (count + TF_PRIOR_RECORDS * base) / (total + TF_PRIOR_RECORDS)


# What the members of one household share: a family name, a home address and connection, a family
# device, and for twins a birth date. Agreement on these alone says "same household", not "same
# person"; the given name, a screen name or an identifier of one person has to agree as well.
HOUSEHOLD_FIELDS = frozenset({"family_name", "birth", "address", "ip", "device"})


# Given names that speak for one person: the same (or swapped), a known nickname or variant. Not
# those that may tell siblings apart: "Loek" and "Luka" share an initial, "Twan" and "Iaan" are a
# similar spelling, Cornelis and Cornelia two names the table knows — nor one typing error: twins
# called Joël and Joep, or Anna and Anne, are one typing error apart (the property test found the
# first), and only the register tells a typo from a sibling's name. Such a pair is weighed as
# similar (it is no conflict) and, when all else it shares is a household's, goes to the BRP.
_SAME_GIVEN_NAME = frozenset({"same", SWAPPED, NICKNAME})


def _household_only(levels: Mapping[str, str], weights: Mapping[str, float]) -> bool:
    agreeing = {name for name, w in weights.items() if w > 0}
    if levels.get("given_name") not in _SAME_GIVEN_NAME:
        agreeing.discard("given_name")
    return bool(agreeing) and agreeing <= HOUSEHOLD_FIELDS


# Where a pair whose agreement is only what a household shares is settled: the population register
# (BRP) tells twins and siblings apart from one person; the data in the reports cannot.
REGISTER_CHECK = "BRP"


def register_check(guards: tuple[str, ...] | list[str]) -> str | None:
    """The register in which an analyst settles a held-back pair, or None: household-level pairs
    (twins, siblings, one person with a nameless report) are a question for the BRP."""
    return REGISTER_CHECK if "household_only" in guards else None


def _positive_fields(weights: Mapping[str, float]) -> int:
    # Given and family name are one piece of evidence: a name.
    kinds = {
        "name" if name in ("given_name", "family_name") else name for name, w in weights.items() if w > 0
    }
    return len(kinds)


def classify(model: Model, scored: Scored) -> str:
    """'link', 'review' or 'none' for one scored pair."""
    if scored.match_weight >= model.thresholds.link and not scored.guards:
        return "link"
    if scored.match_weight >= model.thresholds.review:
        return "review"
    return "none"


# ---------------------------------------------------------------------------------------------
# Training with Splink


def db_api(engine: str = "duckdb", *, spark=None):
    """A Splink database API: DuckDB in process, or Spark (a session is made in local mode)."""
    if engine == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI()
    if engine == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=spark or local_spark())
    raise ValueError(f"unknown engine {engine!r}: duckdb or spark")


def local_spark():
    """A local Spark session sized for one machine (Splink's Spark backend needs a checkpoint dir)."""
    import tempfile

    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("tiptriage-subjects")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="tiptriage-spark-"))
    return spark


def spark_schema():
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    from tiptriage.subjects.features import LIST_COLUMNS, SCALAR_COLUMNS

    return StructType(
        [StructField("unique_id", LongType(), False)]
        + [StructField(c, StringType(), True) for c in SCALAR_COLUMNS]
        + [StructField(c, ArrayType(StringType()), True) for c in LIST_COLUMNS]
    )


def register(api, records: list[dict], engine: str, name: str = "records"):
    """The records as a table in Splink's database."""
    from tiptriage.subjects.features import COLUMNS

    if engine == "spark":
        rows = [tuple(r.get(c) for c in COLUMNS) for r in records]
        frame = api.spark.createDataFrame(rows, schema=spark_schema())
        return api.register(frame, dataset_display_name=name)
    import pyarrow as pa

    from tiptriage.subjects.features import LIST_COLUMNS, SCALAR_COLUMNS

    table = pa.table(
        {c: [r.get(c) for r in records] for c in COLUMNS},  # .get: records stored before a column
        schema=pa.schema(
            [("unique_id", pa.int64())]
            + [(c, pa.string()) for c in SCALAR_COLUMNS]
            + [(c, pa.list_(pa.string())) for c in LIST_COLUMNS]
        ),
    )
    return api.register(table, dataset_display_name=name)


@dataclass
class TrainingReport:
    records: int
    prior: float
    em_sessions: list[str] = field(default_factory=list)


MIN_TRAINING_RECORDS = 50


def train(
    records: list[dict],
    *,
    engine: str = "duckdb",
    seed: int = 1,
    recall: float = 0.5,
    thresholds: Thresholds | None = None,
    spark=None,
    start: dict | None = None,
) -> dict:
    """Unsupervised training on stored records; returns a model document (not yet saved).

    The prior comes from deterministic rules (same user id, mailbox, phone or device) and their
    assumed recall (on generated data they find 51% of the same-person pairs: people open new
    accounts and leave fields empty; assuming more would understate the prior and leave true
    matches in the sampled u of exactly those identifiers); u from random pairs; m by expectation maximisation in sessions that each block
    on some fields, so every other field's m gets estimated on pairs it did not select.

    What the data cannot give is taken from `start` (Splink settings of the model in use, the
    packaged one by default) and said in `trained["kept"]`: the prior when no rule finds a pair (a
    store without identifiers), an EM session that cannot run, m or u of a level no pair reached.
    """
    if len(records) < MIN_TRAINING_RECORDS:
        raise ValueError(
            f"too few records to train on ({len(records)}); at least {MIN_TRAINING_RECORDS} are needed"
        )
    start = start or packaged_document()["splink"]
    with _quiet_splink():
        return _train(records, engine, seed, recall, thresholds, spark, start)


@contextmanager
def _quiet_splink():
    """Splink's warnings (a level not observed, rules without pairs) are said once, in `kept`."""
    log = logging.getLogger("splink")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _train(records, engine, seed, recall, thresholds, spark, start) -> dict:
    from splink import Linker, block_on

    kept: list[dict] = []
    api = db_api(engine, spark=spark)
    linker = Linker(register(api, records, engine), settings_creator(), log_level=None)
    exact_rules = [block_on(c, arrays_to_explode=[c]) for c in ("accounts", "emails", "phones", "devices")]
    try:
        linker.training.estimate_probability_two_random_records_match(exact_rules, recall=recall)
        prior = linker._settings_obj._probability_two_random_records_match
    except ValueError:  # the rules found more pairs than the assumed recall allows
        prior = None
    if prior is None or not 0 < prior < 1:
        prior = start["probability_two_random_records_match"]
        linker._settings_obj._probability_two_random_records_match = prior  # Splink has no setter
        kept.append({"what": "prior", "prior": prior})
    pairs = min(2e6, len(records) * (len(records) - 1) / 2)
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    # EM cannot explode arrays: it blocks on whole lists, which for most records hold one value.
    for columns in (("family_sound", "dob_lo"), ("accounts",), ("emails",)):
        # A session whose rule finds no pair is skipped before Splink starts it: a failed session
        # leaves the linker without the comparisons it had set aside.
        if not _some_pair_agrees(records, columns):
            kept.append({"what": "em_session", "rule": " + ".join(columns)})
            continue
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*columns), record_sample_proportion=1.0
        )
    # What no pair reached is taken from `start` as it is there (decontaminated already).
    filled, missing = fill_untrained(decontaminate_u(linker.misc.save_model_to_json(), floor=1.0 / pairs), start)
    kept += [{"what": "level", "comparison": c, "level": lv, "probability": k} for c, lv, k in missing]
    splink_settings = count_swaps_once(filled)
    trained = {"records": len(records), "engine": engine, "seed": seed, "recall": recall, "u_pairs": pairs,
               "kept": kept}
    return wrap(splink_settings, thresholds=thresholds or DEFAULT_THRESHOLDS, trained=trained)


def _some_pair_agrees(records: list[dict], columns: tuple[str, ...]) -> bool:
    """Whether two records have the same values in all of `columns` (none missing), as
    `block_on(*columns)` compares them (lists as whole lists)."""
    seen = set()
    for r in records:
        key = tuple(tuple(r[c]) if isinstance(r[c], list) else r[c] for c in columns)
        if None in key:
            continue
        if key in seen:
            return True
        seen.add(key)
    return False


def fill_untrained(splink_settings: dict, start: dict) -> tuple[dict, list[tuple[str, str, str]]]:
    """m and u probabilities the training could not estimate (no pair reached the level), taken from
    `start`; with (comparison, level, "m" or "u") for each taken."""
    out = json.loads(json.dumps(splink_settings))
    before = {
        (c["output_column_name"], lv.get("label_for_charts")): lv
        for c in start["comparisons"]
        for lv in c["comparison_levels"]
    }
    taken = []
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            name, label = comparison["output_column_name"], level.get("label_for_charts")
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                known = before.get((name, label), {}).get(key)
                if (not isinstance(value, float) or not 0 < value <= 1) and known is not None:
                    level[key] = known
                    taken.append((name, label, key[0]))
    return out, taken


def count_swaps_once(splink_settings: dict) -> dict:
    """Swapped name fields as one modest piece of evidence, not two big ones.

    A swap makes the given-name and the family-name comparison agree together, so adding both
    weights counted one coincidence twice; and a swap is so rare between random records that its
    trained weight dwarfs an exact name's, though it cannot be adjusted for how common the names
    are (two different "Ravi Jansen"s of one birth year scored as if a mailbox agreed). So the
    given-name swap is worth what an agreeing given name is worth, and the family-name swap level
    is neutral (u = m)."""
    out = json.loads(json.dumps(splink_settings))
    for comparison in out["comparisons"]:
        levels = {lv.get("label_for_charts"): lv for lv in comparison["comparison_levels"]}
        swap, same = levels.get(SWAPPED), levels.get("same")
        if swap is None or not isinstance(swap.get("m_probability"), float):
            continue
        if comparison["output_column_name"] == "family_name":
            swap["u_probability"] = swap["m_probability"]
        elif isinstance(same.get("m_probability"), float) and isinstance(same.get("u_probability"), float):
            swap["u_probability"] = swap["m_probability"] * same["u_probability"] / same["m_probability"]
    return out


def decontaminate_u(splink_settings: dict, *, floor: float) -> dict:
    """u probabilities without the true matches that random sampling also draws.

    Random pairs agree on a level with probability λ·m + (1−λ)·u. For names and birth dates λ·m is
    negligible next to u, but two different people almost never share a mailbox or a user id, so
    there the sampled "u" is mostly λ·m: it would cap an exact identifier's weight at −log2(λ),
    which only cancels the prior. Solving for u, floored at what the sample can resolve, restores it.
    """
    out = json.loads(json.dumps(splink_settings))
    lam = out["probability_two_random_records_match"]
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if isinstance(m, float) and isinstance(u, float):
                level["u_probability"] = max((u - lam * m) / (1 - lam), floor)
    return out


DEFAULT_THRESHOLDS = Thresholds(link=5.0, review=-4.0)  # calibrated on 20,000 generated reports
