"""Synthetic hashes, the pool of known media and the two hash banks written from it.

Hashes are random hex from the generator's `random.Random`: nothing is derived from any content.
Known media are entries of the synthetic banks; a reported known file carries hashes that match
an entry (exactly by MD5 or SHA-1, or by a PDQ a few bits away from the bank's PDQ).

Banks:
- `banks/vics.json`: a VICS (Project VIC) 2.0 style export. Category (US profile): 0 non-pertinent,
  1 child abuse material, 2 child exploitive/age difficult, 3 CGI/animation, 4 comparison.
- `banks/known.csv`: another source, one row per hash (`hash_type,hash,category,series,
  victim_identified`), with its own scheme: the industry classification A1/A2/B1/B2 for
  pertinent entries and NP for non-pertinent ones. Its entries partly overlap the VICS export.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from tiptriage.hashtypes import ALL, MD5, PDQ, SHA1, SHA256, HashType
from tiptriage.intake.domain import FileHash

PDQ_MATCH_DISTANCE = 31
VICS_CONTEXT = "https://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
PERTINENT_CATEGORIES = (1, 2, 3)
# How a reported copy of known media carries its hashes: all of them, only an MD5 or a SHA-1, only
# a PDQ a few bits off the bank's (a resized copy), or a new MD5 with such a PDQ (a re-encoded one).
KNOWN_WAYS = ("full", "md5", "sha1", "pdq_near", "reencoded")
KNOWN_WAYS_CUM_WEIGHTS = (55, 70, 85, 94, 100)


@dataclass(frozen=True, slots=True)
class KnownMedia:
    mid: str
    md5: str
    sha1: str
    pdq: str
    category: int  # VICS category
    classification: str | None  # A1/A2/B1/B2 for pertinent media
    series: str | None
    victim_identified: bool
    in_vics: bool
    in_csv: bool
    vics_pdq: bool  # the VICS entry carries the PDQ as an alternative hash
    csv_pdq: bool  # the CSV bank has a PDQ row for it

    @property
    def pertinent(self) -> bool:
        return self.category in PERTINENT_CATEGORIES

    @property
    def pdq_in_bank(self) -> bool:
        return (self.in_vics and self.vics_pdq) or (self.in_csv and self.csv_pdq)

    @property
    def csv_category(self) -> str:
        return self.classification or "NP"


def hex_digits(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def random_digest(rng: random.Random, kind: HashType) -> str:
    """A value of this hash type that no file has (random bits of its width)."""
    return hex_digits(rng, kind.bits)


def near_pdq(pdq: str, rng: random.Random, *, low: int = 2, high: int = 24) -> str:
    """A PDQ of a re-encoded or resized copy: a few bits flipped, well inside the match distance."""
    value = int(pdq, 16)
    for bit in rng.sample(range(256), rng.randint(low, high)):
        value ^= 1 << bit
    return f"{value:064x}"


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _classification(rng: random.Random, category: int) -> str | None:
    if category == 1:
        return rng.choices(("A1", "A2", "B1", "B2"), weights=(30, 30, 20, 20))[0]
    if category == 2:
        return rng.choice(("B1", "B2"))
    if category == 3:
        return rng.choice(("A1", "A2"))
    return None


def make_pool(rng: random.Random, pertinent: int, non_pertinent: int, comparison: int) -> list[KnownMedia]:
    """Known media, most popular first (reports draw from the front more often)."""
    series = [f"SYN-S{n:04d}" for n in range(1, max(3, pertinent // 25) + 1)]
    identified = {s: rng.random() < 0.4 for s in series}
    pool = []
    kinds = [1] * pertinent + [0] * non_pertinent + [4] * comparison
    rng.shuffle(kinds)
    for n, kind in enumerate(kinds, 1):
        category = rng.choices((1, 2, 3), weights=(80, 12, 8))[0] if kind == 1 else kind
        name = rng.choice(series) if category in (1, 2) and rng.random() < 0.7 else None
        where = rng.random()
        in_vics, in_csv = (True, False) if category == 4 else (where < 0.85, where >= 0.55)
        pool.append(KnownMedia(f"K{n:06d}", random_digest(rng, MD5), random_digest(rng, SHA1), random_digest(rng, PDQ),
                               category, _classification(rng, category), name,
                               identified.get(name, False) if name else False,
                               in_vics, in_csv, rng.random() < 0.9, rng.random() < 0.6))
    return pool


def known_hashes(media: KnownMedia, rng: random.Random) -> tuple[tuple[FileHash, ...], str]:
    """The hashes a report carries for a copy of known media, and which one matches a bank."""
    ways = KNOWN_WAYS if media.pdq_in_bank else KNOWN_WAYS[:3]
    way = rng.choices(ways, cum_weights=KNOWN_WAYS_CUM_WEIGHTS[:len(ways)])[0]
    if way == "full":
        hashes = [known_hash(media, MD5), known_hash(media, SHA1)]
        if rng.random() < 0.4:
            hashes.append(known_hash(media, PDQ))
        return tuple(hashes), MD5.name
    if way in (MD5.name, SHA1.name):
        return (FileHash(way, getattr(media, way)),), way
    near = FileHash(PDQ.name, near_pdq(media.pdq, rng))
    if way == "pdq_near":
        return (near,), PDQ.name
    return (FileHash(MD5.name, random_digest(rng, MD5)), near), PDQ.name


def known_hash(media: KnownMedia, kind: HashType) -> FileHash:
    """The file's own hash of this type, as the banks know it."""
    return FileHash(kind.name, getattr(media, kind.name))


def fresh_hashes(rng: random.Random, *, sha256: float, pdq: float, sha1: float = 1.0) -> tuple[FileHash, ...]:
    """Hashes of a file no bank knows (new or unrated material): an MD5 always, each other type
    with its chance (drawn in the registry's order, so a seed makes the same data as before)."""
    chance = {MD5: None, SHA1: sha1, SHA256: sha256, PDQ: pdq}
    return tuple(FileHash(kind.name, random_digest(rng, kind)) for kind in ALL
                 if chance[kind] is None or rng.random() < chance[kind])


def write_vics(path: Path, pool: list[KnownMedia]) -> int:
    """The VICS export, written entry by entry; returns how many entries it holds."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"@odata.context": %s, "value": [' % json.dumps(VICS_CONTEXT))
        for m in pool:
            if not m.in_vics:
                continue
            entry = {"MediaID": int(m.mid[1:]), "MD5": m.md5.upper(), "SHA1": m.sha1.upper(),
                     "Category": m.category, "Series": m.series, "VictimIdentified": m.victim_identified,
                     "AlternativeHashes": [{"HashName": "PDQ", "HashValue": m.pdq}] if m.vics_pdq else []}
            out.write(("\n " if count == 0 else ",\n ") + json.dumps(entry))
            count += 1
        out.write("\n]}\n")
    return count


def write_known_csv(path: Path, pool: list[KnownMedia]) -> int:
    """The second bank, one row per hash; returns how many media it covers."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("hash_type", "hash", "category", "series", "victim_identified"))
        for m in pool:
            if not m.in_csv:
                continue
            for kind in (MD5, SHA1, PDQ) if m.csv_pdq else (MD5, SHA1):
                writer.writerow((kind.name, getattr(m, kind.name), m.csv_category, m.series or "",
                                 "true" if m.victim_identified else "false"))
            count += 1
    return count
