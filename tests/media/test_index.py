import numpy as np
import pytest

from tiptriage.media.index import MultiIndex, brute_force, hex_to_rows, rows_to_hex


def flip_bits(rows: np.ndarray, counts, rng) -> np.ndarray:
    out = rows.copy()
    for i, k in enumerate(counts):
        for bit in rng.choice(256, size=int(k), replace=False):
            out[i, bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def as_set(hits) -> set:
    return set(zip(hits.query.tolist(), hits.row.tolist(), hits.distance.tolist(), strict=True))


@pytest.fixture(scope="module")
def bank():
    rng = np.random.default_rng(7)
    random = rng.integers(0, 256, size=(20_000, 32), dtype=np.uint8)
    # Clusters of near-duplicates, as real banks have (many copies of one picture).
    centres = random[:200]
    cluster = flip_bits(np.repeat(centres, 10, axis=0), rng.integers(1, 25, 2000), rng)
    return np.unique(np.concatenate([random, cluster]), axis=0)


@pytest.mark.parametrize("radius", [0, 8, 31, 40, 47, 64])
def test_search_finds_exactly_what_brute_force_finds(bank, radius):
    rng = np.random.default_rng(radius)
    near = flip_bits(bank[rng.integers(0, len(bank), 300)], rng.integers(0, 70, 300), rng)
    queries = np.concatenate([near, rng.integers(0, 256, size=(100, 32), dtype=np.uint8)])
    index = MultiIndex.build(bank)
    expected = as_set(brute_force(bank, queries, radius))
    assert as_set(index.search(queries, radius)) == expected
    assert len(expected) > 0


def test_the_pigeonhole_worst_case_is_found_and_one_bit_more_is_not():
    base = np.zeros((1, 32), dtype=np.uint8)
    index = MultiIndex.build(base)
    # 31 bits: two in fifteen of the sixteen 16-bit chunks and one in the last, the most spread-out case.
    worst = base.copy()
    for chunk in range(16):
        worst[0, 2 * chunk] = 0b11 if chunk < 15 else 0b1
    assert index.search(worst, 31).distance.tolist() == [31]
    worst[0, 30] = 0b11  # now two in every chunk: 32 bits
    assert len(index.search(worst, 31)) == 0


def test_each_pair_is_reported_once_with_its_distance(bank):
    index = MultiIndex.build(bank)
    hits = index.search(bank[:50], 31)
    pairs = list(zip(hits.query.tolist(), hits.row.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    assert all(hits.distance[hits.query == hits.row] == 0)


def test_saved_index_loads_memory_mapped_and_answers_the_same(bank, tmp_path):
    index = MultiIndex.build(bank)
    index.save(tmp_path, "x")
    loaded = MultiIndex.load(tmp_path, "x")
    assert not loaded.members.flags.owndata  # a view of the mapped file, not a copy
    queries = bank[::997]
    assert as_set(loaded.search(queries, 31)) == as_set(index.search(queries, 31))
    # 32 bytes of hash and 16 * (4 + 16) bytes of bucket entries per hash, plus fixed-size offsets.
    assert (index.nbytes() - index.offsets.nbytes) / len(index) == 32 + 16 * 20


def test_empty_index_and_hex_round_trip():
    empty = MultiIndex.build(np.empty((0, 32), dtype=np.uint8))
    assert len(empty.search(np.zeros((3, 32), dtype=np.uint8), 31)) == 0
    values = ["00" * 32, "ff" * 31 + "01"]
    assert rows_to_hex(hex_to_rows(values)) == values
    assert empty.contains(hex_to_rows(values)).tolist() == [False, False]
