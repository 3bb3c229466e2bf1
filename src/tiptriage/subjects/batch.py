"""Batch work with Splink: training on the stored records, and relinking everything from scratch.

Relinking scores all blocked pairs with Splink (DuckDB in process, or Spark for a unit that has
outgrown one machine), applies the same guards as the fast path, clusters with Splink's connected
components, splits a component that holds a conflict only at the links it must, then compares the
result with the current subjects. Nothing changes until an analyst applies the run.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiptriage.accounts.actor import require
from tiptriage.audit import service as audit
from tiptriage.db import utcnow
from tiptriage.i18n import N_, refusal
from tiptriage.subjects import actions, errors, fastpath, features, linkage, membership, model_store, retriage
from tiptriage.subjects.models import (
    ANALYST_OPERATIONS,
    RelinkRun,
    Subject,
    SubjectMember,
    SubjectOperation,
    SubjectRecord,
    SubjectReview,
)

HOUSEHOLD_GUARDS = frozenset({"given_name_conflict", "birth_conflict"})


def stored_records(session: Session) -> list[dict]:
    rows = session.execute(
        select(SubjectRecord.features).order_by(SubjectRecord.reported_person_id)
    ).scalars()
    return [r if isinstance(r, dict) else json.loads(r) for r in rows]


@dataclass(frozen=True)
class Training:
    """What `subjects train` did: the model active now, whether it is newly trained, what the data
    could not give and was kept from the model in use (`linkage.train`'s `kept`, or why nothing
    was trained), and what changed against the model active before (`model_changes`)."""

    document: dict
    activated: bool
    kept: tuple[dict, ...]
    changes: dict


def train_from_store(
    session: Session, *, actor: str, engine: str = "duckdb", reason: str | None = None, spark=None
) -> Training:
    """Train on every stored record, keep the active thresholds, store and activate the new version.

    Never fails on what the store holds: too few records, or a training Splink cannot carry out,
    leave the active model in use and say why; what the data cannot give (the prior on a store
    without identifiers, a level no pair reached) is kept from the active model."""
    require(actor, "train")
    current = model_store.active_model(session)
    records = _without_shared_ips(session, stored_records(session), current.max_ip_fanout)
    if len(records) < linkage.MIN_TRAINING_RECORDS:
        why = {"what": "too_few_records", "records": len(records), "needed": linkage.MIN_TRAINING_RECORDS}
        return Training(current.document, False, (why,), {})
    try:
        document = linkage.train(
            records, engine=engine, thresholds=current.thresholds, spark=spark, start=current.splink_settings
        )
        linkage.compile_model(document)
    except Exception as exc:  # noqa: BLE001 - whatever Splink stumbles on, the model in use stays
        why = {"what": "failed", "records": len(records), "error": f"{type(exc).__name__}: {exc}"[:300]}
        return Training(current.document, False, (why,), {})
    model_store.save_model(session, document, actor=actor, reason=reason)
    return Training(document, True, tuple(document["trained"]["kept"]), model_changes(current.document, document))


def model_changes(before: dict, after: dict) -> dict:
    """The prior, the thresholds and each comparison level's m, u and weight, before and after."""

    def levels(document: dict) -> dict:
        return {
            (c["output_column_name"], lv.get("label_for_charts")): lv
            for c in document["splink"]["comparisons"]
            for lv in c["comparison_levels"]
            if not lv.get("is_null_level")
        }

    old, new = levels(before), levels(after)
    rows = []
    for (name, label), level in new.items():
        was = old.get((name, label), {})
        row = {"comparison": name, "level": label}
        for side, lv in (("before", was), ("after", level)):
            m, u = lv.get("m_probability"), lv.get("u_probability")
            row |= {f"m_{side}": m, f"u_{side}": u, f"weight_{side}": math.log2(m / u) if m and u else None}
        rows.append(row)
    return {
        "from_version": before["version"],
        "to_version": after["version"],
        "prior": {"before": before["splink"]["probability_two_random_records_match"],
                  "after": after["splink"]["probability_two_random_records_match"]},
        "thresholds": {"before": before["thresholds"], "after": after["thresholds"]},
        "levels": rows,
    }


def _without_shared_ips(session: Session, records: list[dict], limit: int) -> list[dict]:
    """Drop the tokens of addresses seen with `limit` or more subjects, as the fast path does."""
    shared = fastpath.shared_ips(session, limit)
    return [features.drop_ips(r, shared) for r in records]


# ---------------------------------------------------------------------------------------------
# Scoring all pairs with Splink


def settings_for(model: linkage.Model, dialect: str) -> dict:
    """The model's m and u probabilities in settings built for the target SQL dialect (the saved
    JSON holds DuckDB's SQL; Spark needs its own)."""
    fresh = linkage.settings_creator().create_settings_dict(dialect)
    trained = model.splink_settings
    fresh["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    by_name = {c["output_column_name"]: c for c in trained["comparisons"]}
    for comparison in fresh["comparisons"]:
        levels = by_name[comparison["output_column_name"]]["comparison_levels"]
        for target, source in zip(comparison["comparison_levels"], levels, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in source:
                    target[key] = source[key]
    return fresh


@dataclass(frozen=True)
class Pair:
    left: int
    right: int
    weight: float
    guards: tuple[str, ...]
    personal: bool = True  # an identifier of one person agrees (mailbox, phone, account, screen name)
    vouches: bool = True  # a mailbox, phone number or user id agrees: it lifts the guards (linkage.guards)


def score_all(model: linkage.Model, records: list[dict], *, engine: str = "duckdb", spark=None) -> list[Pair]:
    """Every blocked pair scored by Splink, with the fast path's guards from its levels."""
    from splink import Linker

    api = linkage.db_api(engine, spark=spark)
    linker = Linker(
        linkage.register(api, records, engine),
        settings_for(model, api.sql_dialect.sql_dialect_str),
        log_level=None,
    )
    for column in linkage.TF_COLUMNS:
        linker.table_management.register_term_frequency_lookup(
            tf_lookup(api, engine, records, column, model.exact_u[column]), column
        )
    frame = linker.inference.predict().as_pandas_dataframe()
    return [_pair(model, row) for row in frame.to_dict("records")]


def tf_lookup(api, engine: str, records: list[dict], column: str, base: float):
    """How common each name is, as the fast path counts it: the share of records with the value,
    shrunk towards the model's base rate (`linkage.shrunk_share`). Splink's own
    shares (unshrunk) made rare names weigh more in relinking than at ingest, and two different
    women of one common name and age linked in the batch only."""
    counts = Counter(r[column] for r in records if r[column] is not None)
    total = sum(counts.values())
    rows = [(value, linkage.shrunk_share(n, total, base)) for value, n in sorted(counts.items())]
    name = f"tf_{column}_lookup"
    if engine == "spark":
        return api.register(api.spark.createDataFrame(rows, [column, f"tf_{column}"]), dataset_display_name=name)
    import pandas as pd

    return api.register(pd.DataFrame(rows, columns=[column, f"tf_{column}"]), dataset_display_name=name)


def _pair(model: linkage.Model, row: dict) -> Pair:
    levels, weights = {}, {}
    for cf in model.fields:
        name = cf.field.name
        gamma = int(row[f"gamma_{name}"])
        index = 0 if gamma == -1 else len(cf.field.levels) - 1 - gamma
        levels[name] = cf.field.levels[index].label
        weights[name] = _field_weight(row, name)
    left, right = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
    personal = any(levels[name] == "same" for name in linkage.PERSONAL_FIELDS)
    vouches = any(levels[name] == "same" for name in linkage.UNIQUE_FIELDS)
    return Pair(left, right, float(row["match_weight"]), linkage.guards(levels, weights), personal, vouches)


def _field_weight(row: dict, name: str) -> float:
    """A field's match weight in bits, term-frequency adjustment included, as the guards need it.

    Splink 5 writes weights (`mw_<field>`, `mw_tf_adj_<field>`, log2 already); older versions
    wrote Bayes factors (`bf_…`). A missing column must not read as 0 bits: every field would then
    look like no evidence and the guards would hold back every pair as uncorroborated.
    """
    if f"mw_{name}" in row:
        return _number(row[f"mw_{name}"]) + _number(row.get(f"mw_tf_adj_{name}"))
    if f"bf_{name}" in row:
        bf = _number(row[f"bf_{name}"], 1.0) * _number(row.get(f"bf_tf_adj_{name}"), 1.0)
        return math.log2(bf) if bf > 0 else -math.inf
    raise KeyError(f"Splink's predictions hold no weight for {name!r}: retain intermediate columns")


def _number(value, default: float = 0.0) -> float:
    """A column value as a float; None and NaN (no term-frequency adjustment) give the default."""
    if value is None:
        return default
    value = float(value)
    return default if math.isnan(value) else value


# ---------------------------------------------------------------------------------------------
# Clustering with the chaining guard
#
# Splink's connected components cluster the link edges (and the analysts' must-links). Components
# are what chaining can do wrong: one weak edge between two people makes them one cluster, and the
# household guards only ever see one pair at a time. So a component that holds a conflicting pair
# (household guard: given name or birth date conflict; an analyst's cannot-link) is clustered
# again, inside that component only, by constrained agglomeration: edges strongest first, two
# groups joined unless some pair across them conflicts. Splink's clustering
# (cluster_pairwise_predictions_at_threshold) knows no cannot-links, hence this pass in Python; it
# only sees the few components that hold a conflict, and it drops just the edges that would join
# a conflicting pair (a noisy age or a nickname inside one person's records keeps the rest of that
# person together, where re-clustering on stronger edges only broke such a person up).


def cluster(
    model: linkage.Model,
    person_ids: list[int],
    pairs: list[Pair],
    *,
    must: set[tuple[int, int]],
    cannot: set[tuple[int, int]],
    engine: str = "duckdb",
    spark=None,
) -> dict[int, int]:
    """person id → cluster label. Edges: unguarded pairs at the link threshold and the analysts'
    must-links. No cluster holds a cannot-link; none holds a household conflict unless an analyst's
    must-link put it there. As in the fast path, an edge without an identifier of one person and
    below `linkage.JOIN_WEIGHT` (a name and a birth year) brings a single record to a group but never fuses
    two groups: that is how namesakes' histories would become one."""
    conflicts = {(p.left, p.right) for p in pairs if HOUSEHOLD_GUARDS & set(p.guards)}
    linkable = [
        p
        for p in pairs
        if p.weight >= model.thresholds.link and not p.guards and (p.left, p.right) not in cannot
    ]
    edges = [(p.left, p.right, p.weight) for p in linkable if linkage.fuses(p.weight, p.personal)]
    weak = [(p.left, p.right, p.weight) for p in linkable if not linkage.fuses(p.weight, p.personal)]
    edges += [(a, b, math.inf) for a, b in must]
    labels = _components(person_ids, edges, model.thresholds.link, engine, spark)
    bad = _conflicting(labels, conflicts | cannot)
    if bad:
        inside = {p for p in person_ids if labels[p] in bad}
        again = constrained_clusters(
            inside,
            [e for e in edges if e[0] in inside and e[1] in inside],
            conflicts={c for c in conflicts if c[0] in inside and c[1] in inside},
            cannot={c for c in cannot if c[0] in inside and c[1] in inside},
            vouching={_pair_key(p.left, p.right) for p in linkable if p.vouches and p.left in inside and p.right in inside},
        )
        labels.update({p: ("c", c) for p, c in again.items()})
    return _relabel(_attach(_relabel(labels), weak, conflicts | cannot))


def _attach(labels: dict[int, int], weak: list[tuple[int, int, float]], blocked: set[tuple[int, int]]) -> dict[int, int]:
    """Weak edges, strongest first (ties by person ids): each may bring a lone record to a group (or
    two lone records together), never join two groups of several records, never across a blocked
    pair (household conflict, cannot-link)."""
    members: dict[int, set[int]] = defaultdict(set)
    for person, label in labels.items():
        members[label].add(person)
    against: dict[int, set[int]] = defaultdict(set)
    for a, b in blocked:
        against[a].add(b)
        against[b].add(a)
    for a, b, _ in sorted(weak, key=lambda e: (-e[2], min(e[0], e[1]), max(e[0], e[1]))):
        la, lb = labels[a], labels[b]
        if la == lb or min(len(members[la]), len(members[lb])) > 1:
            continue
        small, large = (la, lb) if len(members[la]) <= len(members[lb]) else (lb, la)
        if any(not against[p].isdisjoint(members[large]) for p in members[small]):
            continue
        for p in members[small]:
            labels[p] = large
        members[large] |= members.pop(small)
    return labels


def constrained_clusters(
    person_ids,
    edges: list[tuple[int, int, float]],
    *,
    conflicts: set[tuple[int, int]],
    cannot: set[tuple[int, int]],
    vouching: set[tuple[int, int]] = frozenset(),
) -> dict[int, int]:
    """Agglomerative clustering under cannot-links: person id → label (a member's id).

    Must-links (infinite weight) first, then edges by descending weight, ties by person ids, so the
    result does not depend on the order of the input. Two groups are joined unless a pair across
    them conflicts (checked from the smaller group). Must-links cross household conflicts (an
    analyst decided), never cannot-links; nothing chains through a conflict, except as in the fast
    path: a `vouching` edge (a mailbox, phone number or user id agrees) brings a lone record to a group
    whose other members it conflicts with.
    """
    members = {p: {p} for p in person_ids}
    root = {p: p for p in person_ids}
    blocked_by_household: dict[int, set[int]] = defaultdict(set)
    blocked_always: dict[int, set[int]] = defaultdict(set)
    for a, b in conflicts:
        blocked_by_household[a].add(b)
        blocked_by_household[b].add(a)
    for a, b in cannot:
        blocked_always[a].add(b)
        blocked_always[b].add(a)

    def clash(small: set[int], large: set[int], must_link: bool) -> bool:
        for p in small:
            if not blocked_always[p].isdisjoint(large):
                return True
            if not must_link and not blocked_by_household[p].isdisjoint(large):
                return True
        return False

    for a, b, weight in sorted(edges, key=lambda e: (-e[2], min(e[0], e[1]), max(e[0], e[1]))):
        ra, rb = root[a], root[b]
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        vouched = len(members[small]) == 1 and _pair_key(a, b) in vouching
        if clash(members[small], members[large], math.isinf(weight) or vouched):
            continue
        for p in members[small]:
            root[p] = large
        members[large] |= members.pop(small)
    return dict(root)


def _conflicting(labels: dict, conflicts: set[tuple[int, int]]) -> set:
    return {labels[a] for a, b in conflicts if a in labels and b in labels and labels[a] == labels[b]}


def _components(
    person_ids: list[int], edges: list[tuple[int, int, float]], threshold: float, engine: str, spark
) -> dict[int, object]:
    """Splink's connected components over the edges at or above the threshold."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    strong = [(a, b, w) for a, b, w in edges if w >= threshold]
    if not strong:
        return {p: p for p in person_ids}
    api = linkage.db_api(engine, spark=spark)
    nodes, links = _tables(person_ids, strong, engine, api)
    result = cluster_pairwise_predictions_at_threshold(
        nodes, links, api, "unique_id", threshold_match_probability=None
    ).as_pandas_dataframe()
    return {int(r["unique_id"]): int(r["cluster_id"]) for r in result.to_dict("records")}


def _tables(person_ids: list[int], edges, engine: str, api):
    nodes = [{"unique_id": p} for p in person_ids]
    links = [{"unique_id_l": a, "unique_id_r": b, "match_weight": min(w, 1e6)} for a, b, w in edges]
    if engine == "spark":
        return api.spark.createDataFrame(nodes), api.spark.createDataFrame(links)
    import pandas as pd

    return pd.DataFrame(nodes), pd.DataFrame(links)


def _relabel(labels: dict[int, object]) -> dict[int, int]:
    """Stable labels: each cluster is named after its smallest person id."""
    smallest: dict[object, int] = {}
    for person, label in labels.items():
        smallest[label] = min(smallest.get(label, person), person)
    return {person: smallest[label] for person, label in labels.items()}


# ---------------------------------------------------------------------------------------------
# Analysts' decisions as constraints


def analyst_constraints(session: Session) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(must-link, cannot-link) person pairs: what analysts decided stays decided."""
    must, cannot = set(), set()
    analyst_ops = select(SubjectOperation.id).where(SubjectOperation.kind.in_(ANALYST_OPERATIONS))
    touched = set(
        session.execute(
            select(SubjectMember.subject_id).where(
                SubjectMember.until.is_(None), SubjectMember.started_by.in_(analyst_ops)
            )
        ).scalars()
    )
    for members in membership.members_of(session, touched).values():
        must.update(_pair_key(a, b) for a, b in zip(members, members[1:]))
    for review in session.execute(select(SubjectReview).where(SubjectReview.status == "rejected")).scalars():
        left = (
            [review.reported_person_id]
            if review.reported_person_id
            else _ever_members(session, review.subject_id)
        )
        right = _ever_members(session, review.candidate_subject_id)
        cannot.update(_pair_key(a, b) for a in left for b in right if a != b)
    for op in session.execute(select(SubjectOperation).where(SubjectOperation.kind == "split")).scalars():
        moved = op.details.get("persons", [])
        stayed = [p for p in _members_at(session, op.details["from"], op.id) if p not in moved]
        cannot.update(_pair_key(a, b) for a in moved for b in stayed)
    return must - cannot, cannot


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _ever_members(session: Session, subject_id: int) -> list[int]:
    return sorted(
        set(
            session.execute(
                select(SubjectMember.reported_person_id).where(SubjectMember.subject_id == subject_id)
            ).scalars()
        )
    )


def _members_at(session: Session, subject_id: int, op_id: int) -> list[int]:
    """Members of the subject just before the operation."""
    return list(
        session.execute(
            select(SubjectMember.reported_person_id).where(
                SubjectMember.subject_id == subject_id,
                SubjectMember.started_by < op_id,
                (SubjectMember.ended_by.is_(None)) | (SubjectMember.ended_by >= op_id),
            )
        ).scalars()
    )


# ---------------------------------------------------------------------------------------------
# Proposing and applying a relink


def propose_relink(session: Session, *, actor: str, engine: str = "duckdb", spark=None) -> RelinkRun:
    """Re-cluster everything with Splink and store what would change (nothing is applied)."""
    model = model_store.active_model(session)
    records = _without_shared_ips(session, stored_records(session), model.max_ip_fanout)
    person_ids = [r["unique_id"] for r in records]
    pairs = score_all(model, records, engine=engine, spark=spark) if len(records) > 1 else []
    must, cannot = analyst_constraints(session)
    clusters = cluster(model, person_ids, pairs, must=must, cannot=cannot, engine=engine, spark=spark)
    current = membership.subject_of_persons(session, person_ids)
    summary = compare(clusters, current) | {"pairs_scored": len(pairs), "last_operation": _last_op(session)}
    run = RelinkRun(
        created_at=utcnow(),
        created_by=actor,
        engine=engine,
        model_version=model.version,
        status="proposed",
        summary=summary,
        clusters={str(p): c for p, c in clusters.items()},
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="subjects.relink.propose",
        entity="subject_relink_run",
        entity_ids=[run.id],
        details=summary,
    )
    return run


def _last_op(session: Session) -> int:
    return session.execute(select(func.coalesce(func.max(SubjectOperation.id), 0))).scalar_one()


def compare(clusters: dict[int, int], current: dict[int, int]) -> dict:
    """What a proposal changes: clusters that join subjects, subjects that fall apart, moved persons."""
    subjects_per_cluster: dict[int, set] = defaultdict(set)
    clusters_per_subject: dict[int, set] = defaultdict(set)
    for person, label in clusters.items():
        subject = current.get(person)
        subjects_per_cluster[label].add(subject)
        if subject is not None:
            clusters_per_subject[subject].add(label)
    targets = _targets(clusters, current)
    moved = sorted(p for p, label in clusters.items() if current.get(p) != targets.get(label))
    return {
        "clusters": len(subjects_per_cluster),
        "subjects": len(clusters_per_subject),
        "joins": sorted(
            sorted(s for s in subs if s is not None)
            for subs in subjects_per_cluster.values()
            if len({s for s in subs if s is not None}) > 1
        ),
        "splits": sorted(s for s, labels in clusters_per_subject.items() if len(labels) > 1),
        "moved_persons": moved,
        "unlinked_persons": sorted(p for p in clusters if p not in current),
    }


def _targets(clusters: dict[int, int], current: dict[int, int]) -> dict[int, int | None]:
    """Which current subject each proposed cluster continues: the one with most of its persons
    (ties: the older subject), each subject continued by one cluster at most; else a new one."""
    votes: dict[int, Counter] = defaultdict(Counter)
    for person, label in clusters.items():
        if person in current:
            votes[label][current[person]] += 1
    ranked = sorted(((n, -s, label, s) for label, c in votes.items() for s, n in c.items()), reverse=True)
    targets, used = {}, set()
    for _, _, label, subject in ranked:
        if label not in targets and subject not in used:
            targets[label] = subject
            used.add(subject)
    return {label: targets.get(label) for label in set(clusters.values())}


def apply_relink(session: Session, run_id: int, *, actor: str, reason: str | None) -> actions.ActionResult:
    """Carry out a proposed run, if nothing changed subjects since it was proposed (audited)."""
    require(actor, "change_subjects")
    reason = errors.require_reason(reason)
    run = session.get(RelinkRun, run_id)
    if run is None or run.status != "proposed":
        raise refusal(errors.SubjectNotFound, "no proposed relink run {id}", id=run_id)
    if _last_op(session) != run.summary["last_operation"]:
        raise refusal(errors.SubjectError, "subjects changed since this run was proposed: propose a new one")
    clusters = {int(p): c for p, c in run.clusters.items()}
    current = membership.subject_of_persons(session, clusters)
    targets = _targets(clusters, current)
    op = membership.record_operation(session, "relink", actor, reason, {"run": run.id})
    now = utcnow()
    new_subjects = {
        label: target or membership.new_subject(session, actor, now) for label, target in targets.items()
    }
    moved, affected = _apply_moves(session, clusters, current, new_subjects, op.id, now)
    run.status, run.decided_at, run.decided_by, run.operation_id = N_("applied"), now, actor, op.id
    audit.record(
        session,
        actor=actor,
        action="subjects.relink.apply",
        entity="subject_relink_run",
        entity_ids=[run.id],
        reason=reason,
        details={"operation": op.id, "moved_persons": len(moved)},
    )
    queued = retriage.queue_retriage(session, affected, op.id)
    return actions.ActionResult(op.id, tuple(sorted(set(new_subjects.values()))), tuple(moved), tuple(queued))


def _apply_moves(
    session: Session, clusters: dict[int, int], current: dict[int, int], new_subjects: dict, op_id: int, now
) -> tuple[list[int], set[int]]:
    moved, touched = [], set()
    members = {
        m.reported_person_id: m
        for m in session.execute(
            select(SubjectMember).where(
                SubjectMember.reported_person_id.in_(list(clusters)), SubjectMember.until.is_(None)
            )
        ).scalars()
    }
    for person, label in sorted(clusters.items()):
        target = new_subjects[label]
        if current.get(person) == target or person not in members:
            continue
        touched.update({current[person], target})
        membership.move(session, [members[person]], target, op_id, now)
        moved.append(person)
    for subject_id in touched:
        subject = session.get(Subject, subject_id)
        if subject.retired_at is None and not membership.current_members(session, subject_id):
            went = Counter(new_subjects[clusters[p]] for p, s in current.items() if s == subject_id)
            subject.retired_at, subject.merged_into_id = now, went.most_common(1)[0][0]
    return moved, set(membership.affected_reports(session, touched)) | _reports_of(session, moved)


def _reports_of(session: Session, person_ids: list[int]) -> set[int]:
    if not person_ids:
        return set()
    return set(
        session.execute(
            select(SubjectRecord.report_id).where(SubjectRecord.reported_person_id.in_(person_ids))
        ).scalars()
    )


def discard_relink(session: Session, run_id: int, *, actor: str, reason: str | None) -> RelinkRun:
    require(actor, "change_subjects")
    run = session.get(RelinkRun, run_id)
    if run is None or run.status != "proposed":
        raise refusal(errors.SubjectNotFound, "no proposed relink run {id}", id=run_id)
    run.status, run.decided_at, run.decided_by = N_("discarded"), utcnow(), actor
    audit.record(
        session,
        actor=actor,
        action="subjects.relink.discard",
        entity="subject_relink_run",
        entity_ids=[run.id],
        reason=reason,
    )
    return run
