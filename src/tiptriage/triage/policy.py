"""Policies: versioned, declarative rule sets that turn facts into an outcome, a priority and reasons.

A policy is a YAML file (see policies/nl-2023.yaml and docs/triage.md). Conditions are a small
language over facts, never Python: a mapping of `fact: value` comparisons (all must hold), or
`all: [...]`, `any: [...]`, `not: {...}`, or the word `always`. A comparison is equality (`fact:
true`, `fact: null`) or one operator: `{eq|ne|lt|lte|gt|gte: v}` or `{in: [...]}`. Because the
language is this small, the loader can *prove* the hard rules before a policy is used: a WARNING
rule is accepted only if its condition is false whenever any forbidden fact is true, whatever
the other facts are. The engine checks the same again for every report it evaluates.

Evaluation: every rule whose condition holds fires. The first firing rule with an outcome decides;
later firing rules with an outcome are reported as `also_matched`; rules without an outcome are
modifiers (priority, flags, explanation). Priority is the sum of the deciding rule's and the
modifiers' contributions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from tiptriage.i18n import N_, Words, refusal
from tiptriage.outcomes import OUTCOMES
from tiptriage.triage.facts import FACT_SCHEMA

# The hard rules: no policy may recommend a WARNING while any of these facts is true.
HARD_RULES = {
    "distributed": N_("never WARNING when anything was distributed"),
    "distribution_undetermined": N_("never WARNING while it is undetermined whether a file was distributed"),
    "distributed_elsewhere": N_("never WARNING for a person who distributed in another report"),
    "possible_distributor": N_("never WARNING while linkage holds as possibly this person one who "
                               "distributed"),
    "new_material": N_("never WARNING when any file is new material"),
    "new_material_elsewhere": N_("never WARNING for a person with new material in another report"),
    "unrated": N_("never WARNING when any file is unrated"),
    "contact_risk": N_("never WARNING when contact-risk indicators are present"),
    "escalated": N_("never WARNING when the platform escalated the report (a child may be at immediate "
                    "risk)"),
    "minor": N_("never WARNING for a minor: the youth track applies"),
    "abroad": N_("never WARNING for a person who lives abroad"),
    "active_warning": N_("never WARNING when the subject has an active warning"),
    "earlier_warning": N_("never WARNING when the subject has an earlier warning"),
}
# The flags a rule may raise, in words: shown next to a report in the queue and on its page. A flag
# outside this list is refused when a policy loads, so every flag has words in every language.
FLAGS = {
    "escalated": N_("escalated by the platform"),
    "victim_identification": N_("victim identification"),
    "contact_risk": N_("contact risk"),
    "aggravation": N_("re-report after a warning (aggravation)"),
    "possible_aggravation": N_("possibly a re-report after a warning"),
    "deconfliction": N_("under investigation elsewhere"),
    "youth": N_("youth"),
    "youth_distributed": N_("youth who forwarded"),
    "person_history": N_("distributed in another report"),
    "possible_person_history": N_("possibly distributed in another report"),
    "question_distribution": N_("distribution undetermined"),
    "age_unknown": N_("age unknown"),
    "already_warned": N_("already warned"),
    "warned_for_report": N_("warned for this report"),
    "needs_second_approval": N_("needs a second approval"),
}
LANGUAGES = ("nl", "en")
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
MAX_DEPTH = 12


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the rule and what is wrong."""


class HardRuleViolation(RuntimeError):
    """The engine was about to recommend a WARNING that a hard rule forbids."""


# --- conditions ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Always:
    def evaluate(self, facts: Mapping) -> bool:
        return True

    def partial(self, known: Mapping) -> bool | None:
        return True


@dataclass(frozen=True, slots=True)
class Compare:
    fact: str
    op: str
    value: object

    def evaluate(self, facts: Mapping) -> bool:
        return _compare(facts[self.fact], self.op, self.value)

    def partial(self, known: Mapping) -> bool | None:
        return _compare(known[self.fact], self.op, self.value) if self.fact in known else None


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple

    def evaluate(self, facts: Mapping) -> bool:
        return all(p.evaluate(facts) for p in self.parts)

    def partial(self, known: Mapping) -> bool | None:
        results = [p.partial(known) for p in self.parts]
        if False in results:
            return False
        return True if all(r is True for r in results) else None


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple

    def evaluate(self, facts: Mapping) -> bool:
        return any(p.evaluate(facts) for p in self.parts)

    def partial(self, known: Mapping) -> bool | None:
        results = [p.partial(known) for p in self.parts]
        if True in results:
            return True
        return False if all(r is False for r in results) else None


@dataclass(frozen=True, slots=True)
class Not:
    part: object

    def evaluate(self, facts: Mapping) -> bool:
        return not self.part.evaluate(facts)

    def partial(self, known: Mapping) -> bool | None:
        result = self.part.partial(known)
        return None if result is None else not result


def _compare(actual: object, op: str, value: object) -> bool:
    if op == "eq":
        return actual == value and type(actual) is type(value) or (actual is None and value is None)
    if op == "ne":
        return not _compare(actual, "eq", value)
    if op == "in":
        return any(_compare(actual, "eq", v) for v in value)
    if actual is None:
        return False  # an unknown value is neither above nor below anything
    return {"lt": actual < value, "lte": actual <= value, "gt": actual > value, "gte": actual >= value}[op]


def parse_condition(node: object, where: str, depth: int = 0):
    """YAML → condition tree; every fact and value checked against FACT_SCHEMA."""
    if depth > MAX_DEPTH:
        raise refusal(PolicyError, "{where}: condition nested deeper than {max}", where=where, max=MAX_DEPTH)
    if node == "always":
        return Always()
    if not isinstance(node, dict) or not node:
        raise refusal(PolicyError, "{where}: a condition is `always` or a non-empty mapping, not {node!r}",
                      where=where, node=node)
    keys = set(node)
    if keys & {"all", "any", "not"}:
        if len(keys) != 1:
            raise refusal(PolicyError, "{where}: `all`, `any` and `not` stand alone in their mapping",
                          where=where)
        return _combinator(next(iter(keys)), node[next(iter(keys))], where, depth)
    parts = tuple(_comparison(fact, spec, where) for fact, spec in node.items())
    return parts[0] if len(parts) == 1 else All(parts)


def _combinator(key: str, body: object, where: str, depth: int):
    if key == "not":
        return Not(parse_condition(body, where, depth + 1))
    if not isinstance(body, list) or not body:
        raise refusal(PolicyError, "{where}: `{key}` takes a non-empty list of conditions",
                      where=where, key=key)
    parts = tuple(parse_condition(b, where, depth + 1) for b in body)
    return All(parts) if key == "all" else AnyOf(parts)


def _comparison(fact: object, spec: object, where: str) -> Compare:
    if fact not in FACT_SCHEMA:
        raise refusal(PolicyError, "{where}: unknown fact {fact!r}", where=where, fact=fact)
    if isinstance(spec, dict):
        if len(spec) != 1 or next(iter(spec)) not in OPERATORS:
            raise refusal(PolicyError, "{where}: {fact}: an operator mapping has one of {operators}",
                          where=where, fact=fact, operators=', '.join(OPERATORS))
        op, value = next(iter(spec.items()))
    else:
        op, value = "eq", spec
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise refusal(PolicyError, "{where}: {fact}: `in` takes a non-empty list", where=where, fact=fact)
    for v in values:
        _check_value(fact, op, v, where)
    return Compare(str(fact), op, tuple(value) if op == "in" else value)


def _check_value(fact: str, op: str, value: object, where: str) -> None:
    kind, nullable = FACT_SCHEMA[fact]
    if value is None:
        if not nullable or op not in ("eq", "ne", "in"):
            raise refusal(PolicyError, "{where}: {fact} is never null; compare it with a {kind}",
                          where=where, fact=fact, kind=kind)
        return
    ok = {"bool": isinstance(value, bool), "int": isinstance(value, int) and not isinstance(value, bool),
          "str": isinstance(value, str)}[kind]
    if not ok:
        raise refusal(PolicyError, "{where}: {fact} is a {kind}, not {value!r}",
                      where=where, fact=fact, kind=kind, value=value)
    if op in ("lt", "lte", "gt", "gte") and kind != "int":
        raise refusal(PolicyError, "{where}: {fact}: `{op}` compares numbers only",
                      where=where, fact=fact, op=op)


# --- rules and policies ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    condition: object
    outcome: str | None
    priority: int
    flags: tuple[str, ...]
    text: Mapping[str, str]
    basis: Mapping[str, str]
    source: object  # the condition as written, for display

    def explain(self, facts: Mapping, lang: str) -> dict:
        return {"id": self.id, "outcome": self.outcome, "priority": self.priority, "flags": list(self.flags),
                "text": _fill(self.text[lang], facts), "basis": _fill(self.basis.get(lang, ""), facts)}


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    version: str
    sha256: str
    title: Mapping[str, str]
    outcome_order: tuple[str, ...]
    rules: tuple[Rule, ...]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(text: str, facts: Mapping) -> str:
    values = _Blank({k: ("?" if v is None else v) for k, v in facts.items()})
    try:
        return text.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return text  # a brace the author meant literally


def policy_bytes(path: str | Path | None = None) -> bytes:
    """A policy file's bytes; the packaged nl-2023 policy when no path is given."""
    if path is None:
        return resources.files(__package__).joinpath("policies", "nl-2023.yaml").read_bytes()
    return Path(path).read_bytes()


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check a policy file (see `policy_bytes`)."""
    return parse_policy(policy_bytes(path))


def parse_policy(data: bytes) -> Policy:
    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise refusal(PolicyError, "not valid YAML: {error}", error=exc) from None
    if not isinstance(doc, dict):
        raise refusal(PolicyError, "a policy is a mapping with policy, version, outcome_order and rules")
    for key in ("policy", "version", "rules"):
        if key not in doc:
            raise refusal(PolicyError, "the policy lacks `{key}`", key=key)
    rules = tuple(_rule(r, n) for n, r in enumerate(_rule_list(doc["rules"]), 1))
    policy = Policy(str(doc["policy"]), str(doc["version"]), hashlib.sha256(data).hexdigest(),
                    _texts(doc.get("title", {"nl": str(doc["policy"]), "en": str(doc["policy"])}), "title"),
                    _outcome_order(doc.get("outcome_order", OUTCOMES)), rules)
    check_policy(policy)
    return policy


def _rule_list(rules: object) -> list:
    if not isinstance(rules, list) or not rules:
        raise refusal(PolicyError, "`rules` is a non-empty list")
    return rules


def _rule(node: object, n: int) -> Rule:
    if not isinstance(node, dict) or "id" not in node:
        raise refusal(PolicyError, "rule {n}: a rule is a mapping with at least an id", n=n)
    rid = str(node["id"])
    unknown = set(node) - {"id", "when", "outcome", "priority", "flags", "text", "basis"}
    if unknown:
        raise refusal(PolicyError, "rule {id}: unknown keys {keys}", id=rid, keys=', '.join(sorted(unknown)))
    outcome = node.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise refusal(PolicyError, "rule {id}: outcome {outcome!r} is not one of {outcomes}",
                      id=rid, outcome=outcome, outcomes=', '.join(OUTCOMES))
    priority = node.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
        raise refusal(PolicyError, "rule {id}: priority is a whole number from -1000 to 1000", id=rid)
    flags = node.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise refusal(PolicyError, "rule {id}: flags is a list of words", id=rid)
    unknown_flags = sorted(set(flags) - set(FLAGS))
    if unknown_flags:
        raise refusal(PolicyError, "rule {id}: unknown flags {flags}; known: {known}", id=rid,
                      flags=", ".join(unknown_flags), known=", ".join(FLAGS))
    if "when" not in node:
        raise refusal(PolicyError, "rule {id}: a rule needs `when` (a condition, or `always`)", id=rid)
    return Rule(rid, parse_condition(node["when"], f"rule {rid}"), outcome, priority, tuple(flags),
                _texts(node.get("text"), f"rule {rid}: text"), _texts(node.get("basis", {}), f"rule {rid}: basis",
                                                                    required=False), node["when"])


def _texts(node: object, where: str, required: bool = True) -> dict[str, str]:
    if not isinstance(node, dict):
        raise refusal(PolicyError, "{where}: give the text per language ({languages})",
                      where=where, languages=', '.join(LANGUAGES))
    missing = [lang for lang in LANGUAGES if not isinstance(node.get(lang), str) or not node[lang].strip()]
    if missing and (required or len(missing) < len(LANGUAGES)):
        raise refusal(PolicyError, "{where}: missing text in {missing}",
                      where=where, missing=', '.join(missing))
    return {lang: str(node.get(lang, "")).strip() for lang in LANGUAGES}


def _outcome_order(order: object) -> tuple[str, ...]:
    if not isinstance(order, list | tuple) or sorted(order) != sorted(OUTCOMES):
        raise refusal(PolicyError, "outcome_order lists each outcome once: {outcomes}",
                      outcomes=', '.join(OUTCOMES))
    return tuple(order)


def check_policy(policy: Policy) -> None:
    """Unique ids, an outcome for every report, no unreachable rule, and the hard-rule proof."""
    seen: set[str] = set()
    for rule in policy.rules:
        if rule.id in seen:
            raise refusal(PolicyError, "rule {id}: the id is used twice", id=rule.id)
        seen.add(rule.id)
    deciding = [r for r in policy.rules if r.outcome is not None]
    for rule in deciding:
        if rule.outcome == "WARNING":
            prove_hard_rules(rule)
    final = next((r for r in deciding if isinstance(r.condition, Always)), None)
    if final is None:
        raise refusal(PolicyError, "no rule with an outcome applies `always`: some reports would get no "
                      "outcome")
    if deciding[-1] is not final:
        later = deciding[deciding.index(final) + 1]
        raise refusal(PolicyError, "rule {id}: unreachable, rule {final} before it applies always",
                      id=later.id, final=final.id)


def prove_hard_rules(rule: Rule) -> None:
    """A WARNING rule's condition must be false whenever a forbidden fact is true (any other facts).

    Three-valued evaluation with only that fact known: `False` proves it for every value of the
    unknown facts. Anything else (true, or undecided) refuses the rule, naming the hard rule.
    """
    for fact, meaning in HARD_RULES.items():
        if rule.condition.partial({fact: True}) is not False:
            raise refusal(PolicyError, "rule {id}: outcome WARNING does not require {fact} = false "
                          "(hard rule: {meaning})", id=rule.id, fact=fact, meaning=Words(meaning))


# --- evaluation ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Evaluation:
    outcome: str
    priority: int
    decided_by: str
    fired: tuple[str, ...]  # the deciding rule and the modifiers, in policy order
    also_matched: tuple[str, ...]  # other rules with an outcome whose condition held
    flags: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"outcome": self.outcome, "priority": self.priority, "decided_by": self.decided_by,
                "fired": list(self.fired), "also_matched": list(self.also_matched), "flags": list(self.flags)}


def evaluate(policy: Policy, facts: Mapping) -> Evaluation:
    """The outcome, priority and reasons for one report's facts (a mapping of FACT_SCHEMA names)."""
    decider: Rule | None = None
    fired, also = [], []
    for rule in policy.rules:
        if not rule.condition.evaluate(facts):
            continue
        if rule.outcome is not None and decider is not None:
            if not isinstance(rule.condition, Always):  # the fallback says nothing about this report
                also.append(rule.id)
            continue
        if rule.outcome is not None:
            decider = rule
        fired.append(rule)
    assert decider is not None, "check_policy guarantees an `always` rule with an outcome"
    assert_hard_rules(decider, facts)
    flags = tuple(dict.fromkeys(f for r in fired for f in r.flags))
    return Evaluation(decider.outcome, sum(r.priority for r in fired), decider.id, tuple(r.id for r in fired),
                      tuple(also), flags)


def assert_hard_rules(rule: Rule, facts: Mapping) -> None:
    """The run-time half of the guarantee: a loaded policy cannot reach this, a tampered one can."""
    if rule.outcome != "WARNING":
        return
    broken = [fact for fact in HARD_RULES if facts[fact] is True]
    if broken:
        raise HardRuleViolation(f"rule {rule.id} recommends WARNING while {', '.join(broken)} "
                                f"({'; '.join(HARD_RULES[f] for f in broken)})")
