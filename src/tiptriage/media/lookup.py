"""Ad-hoc matching of files on disk or of given hashes (`tiptriage match`); nothing is stored.

A file is hashed as a stream (see hashing.py); its PDQ is looked up with all eight dihedral
variants, a video's vPDQ frames one by one. A bare hash is typed by its length; a 64-digit value
is tried as SHA-256 and as PDQ (a SHA-256 within PDQ distance of a bank hash by chance is far
less likely than 1 in 10^30). `type:value` (e.g. `pdq:…`) says the type outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tiptriage import hashtypes
from tiptriage.media import matching
from tiptriage.media.hashing import DIHEDRAL, FileDigest, hash_file
from tiptriage.media.index import hex_to_rows
from tiptriage.media.models import BankEntry
from tiptriage.config import get_settings
from tiptriage.media.store import Searcher


@dataclass
class Query:
    """One input, with what to look up: exact hashes and PDQ variants (name → hex)."""

    input: str
    digest: FileDigest | None = None
    exact: list[tuple[str, str]] = field(default_factory=list)
    pdq: str | None = None
    quality: int | None = None
    variants: dict[str, str] = field(default_factory=dict)
    frames: list[str] = field(default_factory=list)  # distinct usable vPDQ frame hashes
    pdq_status: str = "none"  # matched | low_quality | none
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def parse_input(text: str, min_quality: int) -> Query:
    """A path that exists is a file to hash; anything else must be a hash."""
    path = Path(text)
    if path.is_file():
        return _from_file(text, path, min_quality)
    return _from_hash(text)


def _from_file(text: str, path: Path, min_quality: int) -> Query:
    try:
        digest = hash_file(path)
    except OSError as exc:
        return Query(text, error=f"cannot read: {exc.strerror}")
    q = Query(text, digest, exact=list(digest.exact().items()), notes=list(digest.notes))
    if digest.pdq is not None:
        q.pdq, q.quality = digest.pdq.hash, digest.pdq.quality
        if digest.pdq.quality >= min_quality:
            q.variants, q.pdq_status = dict(zip(DIHEDRAL, digest.pdq.dihedral, strict=True)), "matched"
        else:
            q.pdq_status = "low_quality"
            q.notes.append(f"PDQ quality {digest.pdq.quality} is below {min_quality}: not matched")
    if digest.frames:
        q.frames = sorted({f.pdq for f in digest.frames if f.quality >= min_quality})
        q.pdq_status = "matched" if q.frames else "low_quality"
    return q


def _from_hash(text: str) -> Query:
    q = Query(text)
    kind, _, value = text.partition(":") if ":" in text else ("", "", text)
    value = value.strip().lower()
    types = (hashtypes.named(kind),) if kind.strip() else hashtypes.of_length(len(value))
    if not types or None in types:
        q.error = f"neither an existing file nor an {'/'.join(t.title for t in hashtypes.ALL)} hash (or type:value)"
        return q
    try:
        value = types[0].normalise(value)
    except ValueError as exc:
        q.error = str(exc)
        return q
    q.exact = [(t.name, value) for t in types if t.exact]
    if hashtypes.PDQ in types:
        q.pdq, q.variants, q.pdq_status = value, {"original": value}, "matched"
    return q


def lookup(session: Session, index: Searcher, texts: list[str]) -> list[dict]:
    settings = get_settings()
    queries = [parse_input(t, settings.pdq_min_quality) for t in texts]
    exact = _exact_matches(session, [pair for q in queries for pair in q.exact])
    found: list[dict[int, dict]] = [dict() for _ in queries]
    for i, q in enumerate(queries):
        for hash_type, value in q.exact:
            for entry_id in exact.get((hash_type, value), ()):
                found[i][entry_id] = {"hash_type": hash_type, "distance": 0}
    _pdq_matches(session, index, queries, found, settings)
    info = matching.entry_info(session, {e for f in found for e in f})
    return [_document(q, f, info) for q, f in zip(queries, found, strict=True)]


def _exact_matches(session: Session, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for part in matching.chunks(sorted(set(pairs))):
        rows = session.execute(select(BankEntry.hash_type, BankEntry.value, BankEntry.id).where(
            tuple_(BankEntry.hash_type, BankEntry.value).in_(part), BankEntry.removed_version.is_(None)))
        for hash_type, value, entry_id in rows:
            out.setdefault((hash_type, value), []).append(entry_id)
    return out


def _pdq_matches(session: Session, index: Searcher, queries: list[Query], found: list[dict[int, dict]],
                 settings) -> None:
    """All variants and frames of all inputs in one batch; per input and entry the nearest hit."""
    owners: list[tuple[int, str, str]] = []  # (input, "pdq" or "vpdq", variant name)
    values: list[str] = []
    for i, q in enumerate(queries):
        for name, value in q.variants.items():
            owners.append((i, hashtypes.PDQ.name, name))
            values.append(value)
        for value in q.frames:
            owners.append((i, "vpdq", "frame"))
            values.append(value)
    if not values or not len(index):
        return
    hits = index.search(hex_to_rows(values), hashtypes.PDQ.max_distance(settings))
    entries = matching.live_pdq_entries(session, [h.value for h in hits], settings.pdq_min_quality)
    frames: dict[tuple[int, int], set[int]] = {}
    for h in hits:
        i, kind, variant = owners[h.query]
        for entry_id in entries.get(h.value, ()):
            best = found[i].get(entry_id)
            if best is None or h.distance < best["distance"]:
                found[i][entry_id] = {"hash_type": kind, "distance": h.distance} | (
                    {"variant": variant} if kind == hashtypes.PDQ.name else {})
            if kind == "vpdq":
                frames.setdefault((i, entry_id), set()).add(h.query)
    for (i, entry_id), matched in frames.items():
        found[i][entry_id]["frames_matched"] = len(matched)
        found[i][entry_id]["frames"] = len(queries[i].frames)


def _document(q: Query, found: dict[int, dict], info: dict[int, matching.EntryInfo]) -> dict:
    doc: dict = {"input": q.input}
    if q.error:
        return doc | {"error": q.error, "matches": []}
    if q.digest is not None:
        doc |= {"kind": q.digest.kind, "size": q.digest.size} | q.digest.exact()
    doc |= {"pdq": q.pdq, "quality": q.quality, "pdq_status": q.pdq_status}
    if q.digest is not None and q.digest.frames is not None:
        doc["vpdq_frames"] = len(q.digest.frames)
    matches = []
    for entry_id, m in found.items():
        e = info[entry_id]
        matches.append({"bank": e.bank, "bank_version": e.bank_version, **m, "category": e.category,
                        "series": e.series, "victim_identified": e.victim_identified})
    doc["matches"] = sorted(matches, key=lambda m: (m["distance"], m["bank"]))
    if q.notes:
        doc["notes"] = q.notes
    return doc
