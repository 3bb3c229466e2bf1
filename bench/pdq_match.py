"""PDQ matching benchmark: tiptriage's index next to Meta's threatexchange PDQIndex, on one bank.

    .venv/bin/pip install -e '.[bench]'                  # threatexchange and faiss-cpu, the peers
    .venv/bin/python bench/pdq_match.py                  # 1M hashes
    .venv/bin/python bench/pdq_match.py --size 100000    # a quick run
    .venv/bin/python bench/pdq_match.py --size 1000000 --size 10000000 --engines tiptriage,threatexchange

The bank: random 256-bit hashes plus clusters of near-duplicates (real banks hold many copies of
one picture), 30% of it in clusters of 5-20 hashes within 1-24 bits of their centre. The queries:
half are bank entries with 0-31 bits flipped, half unrelated random hashes. Every engine answers
the same queries at distance <= 31 and is scored against an exact answer (faiss brute force, or
numpy when faiss is missing).

Engines, each built and measured in its own process (so its memory is its own):
  tiptriage       tiptriage.media.index.MultiIndex (16 x 16-bit multi-index, bucket signatures)
  threatexchange  threatexchange.signal_type.pdq.pdq_index.PDQIndex, as Meta's HMA uses it
  threatexchange-1t  the same with faiss limited to one thread (faster for single queries on a
                  busy machine: no OpenMP hand-off per query); the comparison takes TE's better one
  faiss-mih       faiss IndexBinaryMultiHash(256, 16, 16), nflip 1, called directly
  faiss-flat      faiss IndexBinaryFlat range search: brute force, exact
Printed per engine: build time, memory per hash (resident memory the built index adds, divided by
the bank size), queries/s one at a time and in one batch, recall against the exact answer.
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from tiptriage.media.index import MultiIndex, brute_force  # noqa: E402

RADIUS = 31
ENGINES = ("tiptriage", "threatexchange", "threatexchange-1t", "faiss-mih", "faiss-flat")


# --- data ------------------------------------------------------------------------------------------

def flip(rows: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row with counts[i] distinct random bits flipped."""
    out = rows.copy()
    for start in range(0, len(rows), 50_000):
        part = slice(start, start + 50_000)
        order = np.argsort(rng.random((len(out[part]), 256), dtype=np.float32), axis=1)
        mask = np.zeros((len(order), 256), dtype=bool)
        take = np.arange(256)[None, :] < counts[part, None]
        np.put_along_axis(mask, order, take, axis=1)
        out[part] ^= np.packbits(mask, axis=1)
    return out


def make_bank(size: int, rng: np.random.Generator) -> np.ndarray:
    clustered = int(size * 0.3)
    centres = rng.integers(0, 256, size=(max(1, clustered // 12), 32), dtype=np.uint8)
    members = centres[rng.integers(0, len(centres), clustered)]
    members = flip(members, rng.integers(1, 25, clustered), rng)
    random = rng.integers(0, 256, size=(size - clustered, 32), dtype=np.uint8)
    bank = np.unique(np.concatenate([random, centres, members]), axis=0)
    return bank[rng.permutation(len(bank))[:size]]


def make_queries(bank: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    near = flip(bank[rng.integers(0, len(bank), count // 2)], rng.integers(0, RADIUS + 1, count // 2), rng)
    unrelated = rng.integers(0, 256, size=(count - count // 2, 32), dtype=np.uint8)
    return np.concatenate([near, unrelated])[rng.permutation(count)]


def exact_pairs(bank: np.ndarray, queries: np.ndarray) -> set[tuple[int, str]]:
    """The exact answer: (query number, hash hex) for every pair within RADIUS."""
    try:
        import faiss
    except ImportError:
        hits = brute_force(bank, queries, RADIUS)
        return {(int(q), bytes(bank[r]).hex()) for q, r in zip(hits.query, hits.row, strict=True)}
    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank)
    limits, _, ids = flat.range_search(queries, RADIUS + 1)
    return {(q, bytes(bank[i]).hex()) for q in range(len(queries)) for i in ids[limits[q]:limits[q + 1]]}


# --- measuring one engine (in a child process) -------------------------------------------------------

def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Engine:
    """build(bank) keeps what it needs; single(q) and batch(qs) return (query, hex) pairs."""

    def __init__(self, name: str) -> None:
        self.name = name

    def prepare(self) -> None:
        """Imports before the memory baseline: libraries are not the index."""
        if self.name != "tiptriage":
            import faiss

            if self.name.endswith("-1t"):
                faiss.omp_set_num_threads(1)
        if self.name.startswith("threatexchange"):
            import threatexchange.signal_type.pdq.pdq_index  # noqa: F401

    def build(self, bank: np.ndarray) -> None:
        getattr(self, "_build_" + self.name.removesuffix("-1t").replace("-", "_"))(bank)

    # tiptriage
    def _build_tiptriage(self, bank: np.ndarray) -> None:
        self.index = MultiIndex.build(bank)
        self.single = self.batch = self._tiptriage

    def _tiptriage(self, queries: np.ndarray) -> set:
        hits = self.index.search(queries, RADIUS)
        return {(int(q), bytes(self.index.hashes[r]).hex()) for q, r in zip(hits.query, hits.row, strict=True)}

    # threatexchange
    def _build_threatexchange(self, bank: np.ndarray) -> None:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        self.te = PDQIndex((bytes(row).hex(), i) for i, row in enumerate(bank))
        self.single, self.batch = self._te_single, self._te_batch

    def _te_single(self, queries: np.ndarray) -> set:
        out = set()
        for q, row in enumerate(queries):
            out.update((q, self.te.local_id_to_entry[m.metadata][0]) for m in self.te.query(bytes(row).hex()))
        return out

    def _te_batch(self, queries: np.ndarray) -> set:
        """PDQIndex has no batch query; its underlying index has one (used by HMA's matcher)."""
        hexes = [bytes(row).hex() for row in queries]
        found = self.te.index.search_with_distance_in_result(hexes, RADIUS)
        position = {h: q for q, h in enumerate(hexes)}
        return {(position[h], match[1]) for h, matches in found.items() for match in matches}

    # faiss, directly
    def _build_faiss_mih(self, bank: np.ndarray) -> None:
        import faiss

        self.faiss = faiss.IndexBinaryMultiHash(256, 16, 16)
        self.faiss.nflip = RADIUS // 16
        self._faiss_add(bank)

    def _build_faiss_flat(self, bank: np.ndarray) -> None:
        import faiss

        self.faiss = faiss.IndexBinaryFlat(256)
        self._faiss_add(bank)

    def _faiss_add(self, bank: np.ndarray) -> None:
        self.faiss.add(bank)
        self.rows = bank  # to name the hits (faiss MultiHash cannot reconstruct)
        self.single = self.batch = self._faiss

    def _faiss(self, queries: np.ndarray) -> set:
        limits, _, ids = self.faiss.range_search(queries, RADIUS + 1)
        return {(q, bytes(self.rows[i]).hex()) for q in range(len(queries)) for i in ids[limits[q]:limits[q + 1]]}


def measure(name: str, folder: Path, single_count: int) -> dict:
    queries = np.load(folder / "queries.npy")
    truth = {tuple(p) for p in json.loads((folder / "truth.json").read_text())}
    engine = Engine(name)
    engine.prepare()
    gc.collect()
    before = rss()  # before the bank is even loaded: what remains after the build is the index's
    bank = np.load(folder / "bank.npy")
    size = len(bank)
    started = time.perf_counter()
    engine.build(bank)
    build = time.perf_counter() - started
    # tiptriage keeps the array as its hash table; threatexchange keeps hex strings of its own;
    # faiss copies the codes, and the bench's reference (to name hits) is not faiss's memory.
    extra = bank.nbytes if name.startswith("faiss") else 0
    del bank
    gc.collect()
    memory = rss() - before - extra
    few = queries[:single_count]
    started = time.perf_counter()
    single = set()
    for q in range(len(few)):
        single.update((q, h) for _, h in engine.single(few[q:q + 1]))
    single_qps = len(few) / (time.perf_counter() - started)
    started = time.perf_counter()
    batch = engine.batch(queries)
    batch_qps = len(queries) / (time.perf_counter() - started)
    few_truth = {p for p in truth if p[0] < single_count}
    return {"engine": name, "build_s": build, "bytes_per_hash": memory / size,
            "single_qps": single_qps, "batch_qps": batch_qps,
            "recall_single": len(single & few_truth) / max(1, len(few_truth)),
            "recall_batch": len(batch & truth) / max(1, len(truth)),
            "false_hits": len(batch - truth) + len(single - few_truth)}


# --- the run -------------------------------------------------------------------------------------------

def run_size(size: int, engines: list[str], args) -> list[dict]:
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="pdq-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        bank = make_bank(size, rng)
        queries = make_queries(bank, args.queries, rng)
        truth = exact_pairs(bank, queries)
        np.save(folder / "bank.npy", bank)
        np.save(folder / "queries.npy", queries)
        (folder / "truth.json").write_text(json.dumps(sorted(truth)))
        print(f"\n{size:,} hashes ({len(bank):,} unique), {len(queries):,} queries, {len(truth):,} true pairs "
              f"within {RADIUS} bits; data and exact answer in {time.perf_counter() - started:.0f} s", flush=True)
        del bank
        results = []
        print(HEADER)
        for name in engines:
            out = subprocess.run([sys.executable, __file__, "--child", name, "--folder", str(folder),
                                  "--single", str(args.single)], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"  {name}: failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
                continue
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print_row(results[-1], flush=True)
    return results


HEADER = f"  {'engine':18} {'build s':>8} {'bytes/hash':>11} {'single q/s':>11} {'batch q/s':>10} {'recall':>7}"


def print_row(r: dict, flush: bool = False) -> None:
    recall = min(r["recall_single"], r["recall_batch"])
    print(f"  {r['engine']:18} {r['build_s']:8.1f} {r['bytes_per_hash']:11.0f} {r['single_qps']:11,.0f} "
          f"{r['batch_qps']:10,.0f} {recall:7.3f}" + (f"  ({r['false_hits']} false hits!)" if r["false_hits"] else ""),
          flush=flush)


def summary(results: list[dict]) -> None:
    """tiptriage against threatexchange's better configuration for each figure."""
    ours = next((r for r in results if r["engine"] == "tiptriage"), None)
    peers = [r for r in results if r["engine"].startswith("threatexchange")]
    if ours and peers:
        single = max(r["single_qps"] for r in peers)
        batch = max(r["batch_qps"] for r in peers)
        memory = min(r["bytes_per_hash"] for r in peers)
        print(f"  tiptriage / threatexchange (its best): {ours['single_qps'] / single:.1f}x single, "
              f"{ours['batch_qps'] / batch:.1f}x batch, {memory / max(1, ours['bytes_per_hash']):.1f}x less memory per hash")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, action="append", help="bank size (repeatable; default 1,000,000)")
    parser.add_argument("--queries", type=int, default=10_000, help="queries in the batch (default 10,000)")
    parser.add_argument("--single", type=int, default=2_000, help="of those, asked one at a time (default 2,000)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, of: " + ", ".join(ENGINES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, Path(args.folder), args.single)))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(unknown)}")
    print(f"PDQ matching at distance <= {RADIUS}; {os.cpu_count()} cores")
    for size in args.size or [1_000_000]:
        summary(run_size(size, engines, args))


if __name__ == "__main__":
    main()
