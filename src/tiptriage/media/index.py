"""An exact PDQ index: multi-index hashing over 16 chunks of 16 bits, verified by popcount.

Why this shape (measured in bench/pdq_match.py, described in docs/media.md):

- Pigeonhole: split the 256 bits into 16 chunks of 16 bits. Two hashes within Hamming distance
  d differ in at most floor(d / 16) bits in at least one chunk (otherwise they would differ in
  16 * (floor(d / 16) + 1) > d bits). So probing every chunk's bucket for the query's chunk value
  and its 16 one-bit neighbours (17 probes per chunk, 272 in all) finds every hash within 31 bits;
  the exact distance of each candidate is then counted. Recall is 1.0 by construction.
- Buckets are a CSR table per chunk (offsets into one array of row numbers sorted by chunk value):
  a probe is two array reads, no hashing, no pointers. Everything is a flat numpy array, saved as
  .npy and opened memory-mapped, so loading costs milliseconds and several worker processes share
  one copy in the page cache. Memory: 32 bytes of hash + 16 * 4 bytes of row numbers per entry, plus
  8 MiB of offsets.
- Queries are answered in batches with vectorised numpy; a single query is a batch of one.

The index knows only hash values (unique rows); the database says which bank entries carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from tiptriage.keyfiles import private_open

BITS = 256
HASH_BYTES = BITS // 8
CHUNKS = 16
CHUNK_BITS = 16
BUCKETS = 1 << CHUNK_BITS
# Distances whose probe sets stay small (0, 1 or 2 flipped bits per chunk); beyond, a full scan.
MAX_PROBED_DISTANCE = 3 * CHUNKS - 1
# Candidates handled per step of a batch: small enough for the temporaries to stay in cache
# (measured: 100k is ~1.5x faster than 4M per step at 1M hashes).
CANDIDATE_BLOCK = 100_000
SCAN_BLOCK = 1 << 16


@dataclass(frozen=True)
class Hits:
    """Search results as parallel arrays: query row, index row, Hamming distance."""

    query: np.ndarray
    row: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.query)


def hex_to_rows(values: list[str]) -> np.ndarray:
    """64-character hex strings to an (n, 32) uint8 array, in PDQ's own byte order."""
    if not values:
        return np.empty((0, HASH_BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


def rows_to_hex(rows: np.ndarray) -> list[str]:
    return [bytes(r).hex() for r in rows]


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between matching rows of two (n, 32) arrays (or one row broadcast)."""
    x = np.ascontiguousarray(a).view(np.uint64) ^ np.ascontiguousarray(b).view(np.uint64)
    return np.bitwise_count(x).sum(axis=-1, dtype=np.int32)


def _word_distances(a64: np.ndarray, b64: np.ndarray) -> np.ndarray:
    """Distances between rows of 2 or 4 uint64 words; `a64` is overwritten.

    numpy reduces a short last axis slowly, so the per-word counts (each <= 64, one byte each)
    are read as one 16- or 32-bit lane per row and folded with masked adds; no lane overflows.
    """
    counts = np.bitwise_count(np.bitwise_xor(a64, b64, out=a64))
    if counts.shape[1] == 2:
        lanes = counts.view("<u2").ravel().astype(np.int32)
        return (lanes & 0xFF) + (lanes >> 8)
    lanes = counts.view("<u4").ravel()
    pairs = (lanes & 0x00FF00FF) + ((lanes >> 8) & 0x00FF00FF)
    return ((pairs & 0xFFFF) + (pairs >> 16)).astype(np.int32)


def _flip_masks(flips: int) -> np.ndarray:
    """All 16-bit masks with at most `flips` bits set: the probe offsets for one chunk."""
    masks = [0]
    for k in range(1, flips + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(CHUNK_BITS), k))
    return np.array(masks, dtype=np.uint16)


_FLIP_MASKS = [_flip_masks(f).astype(np.int64) for f in range(MAX_PROBED_DISTANCE // CHUNKS + 1)]
_CHUNK_BASE = np.arange(CHUNKS, dtype=np.int64) * (BUCKETS + 1)
# Chunks 0-7 lie in bytes 0-15 (half 0): their bucket signatures hold half 1, and the reverse.
_SIGNATURE_HALF = np.where(np.arange(CHUNKS) < CHUNKS // 2, 1, 0)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of arange(s, s + n) for each (s, n), without a Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (ends - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


class MultiIndex:
    """Unique 256-bit hashes, searchable within a Hamming radius. Immutable once built."""

    ARRAYS = ("hashes", "members", "signatures", "offsets")

    def __init__(self, hashes: np.ndarray, members: np.ndarray, signatures: np.ndarray,
                 offsets: np.ndarray) -> None:
        # np.asarray: memory-mapped arrays as plain views, without np.memmap's per-operation cost.
        self.hashes = np.asarray(hashes)  # (n, 32) uint8, the unique hashes; a row number names one
        self.members = np.asarray(members)  # (CHUNKS * n,) uint32: row numbers by chunk, then chunk value
        self.signatures = np.asarray(signatures)  # (CHUNKS * n, 2) uint64: each member's other 128-bit half
        self.offsets = np.asarray(offsets)  # (CHUNKS, BUCKETS + 1) int64: where each bucket starts
        self._flat_offsets = self.offsets.reshape(-1)
        self._words = self.hashes.view(np.uint64)

    def __len__(self) -> int:
        return len(self.hashes)

    @classmethod
    def build(cls, hashes: np.ndarray) -> MultiIndex:
        hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        n = len(hashes)
        if n >= 1 << 32:
            raise ValueError("more than 2^32 hashes: split the index")
        words = hashes.view("<u2")
        halves = hashes.view(np.uint64).reshape(n, 2, 2)
        members = np.empty(CHUNKS * n, dtype=np.uint32)
        signatures = np.empty((CHUNKS * n, 2), dtype=np.uint64)
        offsets = np.empty((CHUNKS, BUCKETS + 1), dtype=np.int64)
        for c in range(CHUNKS):
            column = words[:, c]
            order = np.argsort(column, kind="stable")  # a radix sort for uint16
            members[c * n:(c + 1) * n] = order
            signatures[c * n:(c + 1) * n] = halves[order, _SIGNATURE_HALF[c]]
            offsets[c, 0] = c * n
            offsets[c, 1:] = c * n + np.cumsum(np.bincount(column, minlength=BUCKETS))
        return cls(hashes, members, signatures, offsets)

    def search(self, queries: np.ndarray, max_distance: int = 31) -> Hits:
        """Every (query, row) within max_distance, each pair once."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(self) == 0 or len(queries) == 0 or max_distance < 0:
            return _empty_hits()
        if max_distance > MAX_PROBED_DISTANCE:
            return _scan(self.hashes, queries, max_distance)
        masks = _FLIP_MASKS[max_distance // CHUNKS]
        # Expected candidates per query: probes * n / BUCKETS; size query blocks to bound memory.
        per_query = CHUNKS * len(masks) * (len(self) // BUCKETS + 1)
        step = max(1, CANDIDATE_BLOCK // per_query)
        parts = [self._search_block(queries[i:i + step], masks, max_distance, i)
                 for i in range(0, len(queries), step)]
        return _concat(parts)

    def _search_block(self, queries: np.ndarray, masks: np.ndarray, max_distance: int, first: int) -> Hits:
        q, probes = len(queries), CHUNKS * len(masks)
        words = queries.view("<u2").astype(np.int64)
        # Flat positions in `offsets` of every probed bucket, (query, chunk, flip) in that order.
        buckets = ((words[:, :, None] ^ masks[None, None, :]) + _CHUNK_BASE[None, :, None]).ravel()
        starts = np.take(self._flat_offsets, buckets)
        lengths = np.take(self._flat_offsets, buckets + 1) - starts
        positions = _ranges(starts, lengths)
        # Candidates come grouped by (query, chunks 0-7 | chunks 8-15); the first group's signatures
        # hold hash half 1, the second's half 0: each group is compared with that half of its query.
        groups = lengths.reshape(q, 2, -1).sum(axis=2).ravel()
        query_halves = queries.view(np.uint64).reshape(q, 2, 2)[:, ::-1].reshape(2 * q, 2)
        # First pass, on contiguous bucket memory: the other half alone bounds the distance below.
        signatures = np.take(self.signatures, positions, axis=0)
        np.bitwise_xor(signatures, np.repeat(query_halves, groups, axis=0), out=signatures)
        lanes = np.bitwise_count(signatures).view("<u2").ravel()  # two byte-sized counts per candidate
        keep = np.flatnonzero((lanes & 0xFF) + (lanes >> 8) <= max_distance)
        if len(keep) == 0:  # the usual answer for an unknown image: stop here
            return _empty_hits()
        query = np.searchsorted(np.cumsum(groups), keep, side="right") >> 1
        rows = np.take(self.members, positions[keep]).astype(np.int64)
        # Second pass, on the few survivors: the exact distance over all 256 bits.
        dist = _word_distances(np.take(self._words, rows, axis=0),
                               np.take(queries.view(np.uint64), query, axis=0))
        keep = dist <= max_distance
        query, rows, dist = query[keep], rows[keep], dist[keep]
        if probes > 1 and len(query) > 1:  # a row can come through several chunks: each pair once
            _, once = np.unique(query * len(self) + rows, return_index=True)
            query, rows, dist = query[once], rows[once], dist[once]
        return Hits(query + first, rows, dist)

    def contains(self, rows: np.ndarray) -> np.ndarray:
        """For each given hash, whether the index holds exactly that hash."""
        hits = self.search(rows, max_distance=0)
        found = np.zeros(len(rows), dtype=bool)
        found[hits.query] = True
        return found

    # --- persistence: plain .npy files, opened memory-mapped ---------------------------------

    def save(self, folder: Path, stem: str) -> None:
        for name in self.ARRAYS:
            _save_npy(folder / f"{stem}.{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path, stem: str) -> MultiIndex:
        return cls(*(np.load(folder / f"{stem}.{name}.npy", mmap_mode="r") for name in cls.ARRAYS))

    @classmethod
    def files(cls, stem: str) -> list[str]:
        return [f"{stem}.{name}.npy" for name in cls.ARRAYS]

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.ARRAYS)


def _save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(".tmp")
    with private_open(tmp, "wb") as fh:  # hashes of reported files: owner-only, as the store is
        np.save(fh, np.ascontiguousarray(array))
    tmp.replace(path)


def _empty_hits() -> Hits:
    empty = np.empty(0, dtype=np.int64)
    return Hits(empty, empty, empty.astype(np.int32))


def _concat(parts: list[Hits]) -> Hits:
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else _empty_hits()
    return Hits(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("query", "row", "distance")))


def _scan(hashes: np.ndarray, queries: np.ndarray, max_distance: int) -> Hits:
    """Exact search by comparing every pair: for radii beyond the probed ones."""
    parts = []
    step = max(1, SCAN_BLOCK // max(1, len(queries)))
    for start in range(0, len(hashes), step):
        block = np.ascontiguousarray(hashes[start:start + step])
        dist = distances(block[None, :, :], queries[:, None, :])
        q, r = np.nonzero(dist <= max_distance)
        parts.append(Hits(q.astype(np.int64), r.astype(np.int64) + start, dist[q, r]))
    return _concat(parts)


def brute_force(hashes: np.ndarray, queries: np.ndarray, max_distance: int) -> Hits:
    """The reference answer: every pair compared. For tests and the benchmark's recall."""
    return _scan(np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES),
                 np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES), max_distance)
