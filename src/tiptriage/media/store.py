"""The PDQ indexes on disk: the banks' (kept in step with the banks in the database), and the
stored files' (for retro-matching, which looks changed bank hashes up among the files).

Layout of the folder (next to the SQLite file, or TIPTRIAGE_PDQ_INDEX_DIR):
  manifest.json           which bank versions the index holds, and its current files
  g<N>-main.*.npy         the main index of generation N (MultiIndex arrays)
  g<N>-d<M>-delta.*.npy   hashes added since the main index was built (a small MultiIndex)
  lock                    taken while the index is brought up to date

The database is the truth: the index may hold hashes that banks have since dropped (a lookup of
its hits in the database filters them out), never fewer than the banks hold. A bank import adds
its new hashes as a delta; when delta and stale hashes pass a fraction of the main index, the
whole index is rebuilt. A missing, foreign or damaged index is rebuilt from the database.

The files' index (FileIndexStore, in the subfolder `files/`) holds the distinct PDQ values of
stored files; see its docstring.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tiptriage.hashtypes import PDQ
from tiptriage.keyfiles import private_folder, private_open
from tiptriage.intake.models import FileHashRow
from tiptriage.media.index import Hits, MultiIndex, hex_to_rows
from tiptriage.media.models import Bank, BankEntry, BankVersion

FORMAT = 1
MANIFEST = "manifest.json"
# Rebuild when delta + stale hashes pass this share of the main index (or the absolute floor).
REBUILD_FRACTION = 0.10
REBUILD_FLOOR = 50_000
VALUE_BATCH = 500
# The files' index: rebuilt when the files stored since it was built pass this share (or floor).
FILES_FOLDER = "files"
FILES_REBUILD_FRACTION = 0.10
FILES_REBUILD_FLOOR = 20_000


@dataclass(frozen=True)
class Match:
    """A PDQ hit: which query, which indexed hash value, at what distance."""

    query: int
    value: str
    distance: int


class Searcher:
    """The main index and its delta, searched as one."""

    def __init__(self, parts: list[MultiIndex]) -> None:
        self.parts = [p for p in parts if len(p)]

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def search(self, queries: np.ndarray, max_distance: int) -> list[Match]:
        found: dict[tuple[int, str], int] = {}
        for part in self.parts:
            hits: Hits = part.search(queries, max_distance)
            values = part.hashes[hits.row]
            for q, row, d in zip(hits.query.tolist(), values, hits.distance.tolist(), strict=True):
                key = (q, bytes(row).hex())
                found[key] = min(d, found.get(key, d))
        return [Match(q, v, d) for (q, v), d in sorted(found.items())]

    def values_near(self, queries: np.ndarray, max_distance: int) -> set[str]:
        """The indexed values within max_distance of any query. Many queries against a small index
        (a large bank import, few stored files) are answered the other way round: the indexed
        values are searched in an index built over the queries."""
        if len(queries) <= len(self):
            return {m.value for m in self.search(queries, max_distance)}
        other = MultiIndex.build(np.unique(queries, axis=0))
        found: set[str] = set()
        for part in self.parts:
            rows = np.unique(other.search(part.hashes, max_distance).query)
            found.update(bytes(r).hex() for r in part.hashes[rows])
        return found


def bank_state(session: Session) -> dict[str, list]:
    """Every bank's current version and that version's token: what an index must reflect."""
    rows = session.execute(select(Bank.id, Bank.version, BankVersion.token)
                           .join(BankVersion, (BankVersion.bank_id == Bank.id) & (BankVersion.version == Bank.version)))
    return {str(bank_id): [version, token] for bank_id, version, token in rows}


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on an index folder: one process writes or rebuilds it at a time."""
    private_folder(folder)
    with private_open(folder / "lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(folder: Path, **expected) -> dict | None:
    """The folder's manifest, or None when missing, damaged or not what the caller expects."""
    try:
        doc = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return doc if doc.get("format") == FORMAT and all(doc.get(k) == v for k, v in expected.items()) else None


def publish(folder: Path, manifest: dict, *names: str | None) -> None:
    """Write the manifest atomically, then drop the index files it no longer names (`names`: the
    indexes it holds). A reader that opened the old files keeps its mapping; new readers use the new."""
    tmp = folder / (MANIFEST + ".tmp")
    with private_open(tmp, "w") as fh:
        fh.write(json.dumps(manifest, indent=1))
    os.replace(tmp, folder / MANIFEST)
    keep = {f for name in names if name for f in MultiIndex.files(name)}
    for path in folder.glob("g*.npy"):
        if path.name not in keep:
            path.unlink(missing_ok=True)


class IndexStore:
    def __init__(self, folder: Path, min_quality: int) -> None:
        self.folder = folder
        self.min_quality = min_quality

    def manifest(self) -> dict | None:
        return read_manifest(self.folder, min_quality=self.min_quality)

    def open(self, session: Session) -> Searcher:
        """The index, brought up to date with the banks first if they changed."""
        state = bank_state(session)
        manifest = self.manifest()
        if manifest is None or manifest["banks"] != state:
            with folder_lock(self.folder):
                manifest = self._update(session, state)
        try:
            return self._load(manifest)
        except (OSError, ValueError):  # replaced meanwhile by another process, or damaged
            with folder_lock(self.folder):
                manifest = self.manifest()
                try:
                    return self._load(manifest)
                except (OSError, ValueError, TypeError):
                    return self._load(self._rebuild(session, state))

    def rebuild(self, session: Session) -> dict:
        with folder_lock(self.folder):
            return self._rebuild(session, bank_state(session))

    def _load(self, manifest: dict) -> Searcher:
        parts = [MultiIndex.load(self.folder, manifest["main"])]
        if manifest.get("delta"):
            parts.append(MultiIndex.load(self.folder, manifest["delta"]))
        return Searcher(parts)

    def _update(self, session: Session, state: dict) -> dict:
        manifest = self.manifest()  # again, under the lock: another process may have done it
        if manifest is not None and manifest["banks"] == state:
            return manifest
        if manifest is None or not self._can_extend(session, manifest, state):
            return self._rebuild(session, state)
        added, stale = self._changes(session, manifest["banks"], state)
        main = MultiIndex.load(self.folder, manifest["main"])
        delta_rows = self._delta_rows(manifest)
        new = added[~main.contains(added)] if len(added) else added
        rows = np.unique(np.concatenate([delta_rows, new]), axis=0) if len(new) else delta_rows
        stale += manifest.get("stale", 0)
        if len(rows) + stale > max(REBUILD_FLOOR, REBUILD_FRACTION * len(main)):
            return self._rebuild(session, state)
        return self._write_delta(manifest, state, rows, stale)

    def _can_extend(self, session: Session, manifest: dict, state: dict) -> bool:
        """Only forward changes of the same banks can be applied as a delta."""
        for bank_id, (version, token) in manifest["banks"].items():
            if bank_id not in state or state[bank_id][0] < version:
                return False
            if state[bank_id][0] > version:
                indexed = session.execute(select(BankVersion.token).where(
                    BankVersion.bank_id == int(bank_id), BankVersion.version == version)).scalar_one_or_none()
                if indexed != token:
                    return False
            elif state[bank_id][1] != token:
                return False
        return True

    def _changes(self, session: Session, indexed: dict, state: dict) -> tuple[np.ndarray, int]:
        """PDQ values added to live entries since the indexed versions, and how many were removed."""
        values: set[str] = set()
        removed = 0
        for bank_id, (version, _token) in state.items():
            since = indexed.get(bank_id, [0])[0]
            if version == since:
                continue
            live = self._live(select(BankEntry.value)).where(BankEntry.bank_id == int(bank_id),
                                                            BankEntry.added_version > since)
            values.update(session.execute(live).scalars())
            removed += session.execute(
                select(func.count()).select_from(BankEntry).where(
                    BankEntry.bank_id == int(bank_id), BankEntry.hash_type == PDQ.name,
                    BankEntry.removed_version > since)).scalar_one()
        return hex_to_rows(sorted(values)), removed

    def _live(self, query):
        return query.where(BankEntry.hash_type == PDQ.name, BankEntry.removed_version.is_(None),
                           or_(BankEntry.quality.is_(None), BankEntry.quality >= self.min_quality))

    def _rebuild(self, session: Session, state: dict) -> dict:
        values = session.execute(self._live(select(BankEntry.value).distinct())).scalars().all()
        rows = hex_to_rows(sorted(values))
        generation = uuid.uuid4().hex[:12]
        main = f"g{generation}-main"
        MultiIndex.build(rows).save(self.folder, main)
        manifest = {"format": FORMAT, "min_quality": self.min_quality, "banks": state, "main": main,
                    "main_size": len(rows), "delta": None, "delta_size": 0, "stale": 0}
        self._commit(manifest)
        return manifest

    def _delta_rows(self, manifest: dict) -> np.ndarray:
        if not manifest.get("delta"):
            return np.empty((0, 32), dtype=np.uint8)
        return np.array(MultiIndex.load(self.folder, manifest["delta"]).hashes)

    def _write_delta(self, manifest: dict, state: dict, rows: np.ndarray, stale: int) -> dict:
        delta = f"{manifest['main']}-d{uuid.uuid4().hex[:8]}-delta" if len(rows) else None
        if delta:
            MultiIndex.build(rows).save(self.folder, delta)
        manifest = dict(manifest, banks=state, delta=delta, delta_size=len(rows), stale=stale)
        self._commit(manifest)
        return manifest

    def _commit(self, manifest: dict) -> None:
        publish(self.folder, manifest, manifest["main"], manifest.get("delta"))


class FileIndexStore:
    """The PDQ values of stored files, so that retro-matching can ask the reverse question: which
    files lie within the match distance of the PDQ hashes a bank version added or removed?

    Files are only ever added. The main index, on disk, holds the distinct values of the PDQ rows
    of `file_hashes` up to an id (`upto`); the rows after it (files stored since) are read and
    indexed in memory at each use, and the main index is rebuilt when they pass a share of it.
    The manifest records how many PDQ rows up to `upto` the index holds and the value of row
    `upto`; a database that no longer agrees (another database, rows committed late under a lower
    id, rows deleted) gets the index rebuilt. The index holds values only: the database says which
    files carry them.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def manifest(self) -> dict | None:
        return read_manifest(self.folder, kind="files")

    def open(self, session: Session) -> Searcher:
        """The files' PDQ values as they are now: the main index and an in-memory tail."""
        manifest = self.manifest()
        if manifest is None or not self._agrees(session, manifest):
            with folder_lock(self.folder):
                manifest = self.manifest()  # again, under the lock: another process may have done it
                if manifest is None or not self._agrees(session, manifest):
                    manifest = self._rebuild(session)
        try:
            main = MultiIndex.load(self.folder, manifest["main"])
        except (OSError, ValueError):  # replaced meanwhile by another process, or damaged
            with folder_lock(self.folder):
                manifest = self._rebuild(session)
            main = MultiIndex.load(self.folder, manifest["main"])
        tail = self._values(session, FileHashRow.id > manifest["upto"])
        if len(tail) > max(FILES_REBUILD_FLOOR, FILES_REBUILD_FRACTION * len(main)):
            with folder_lock(self.folder):
                manifest = self._rebuild(session)
            return Searcher([MultiIndex.load(self.folder, manifest["main"]),
                             MultiIndex.build(self._values(session, FileHashRow.id > manifest["upto"]))])
        return Searcher([main, MultiIndex.build(tail)])

    def _agrees(self, session: Session, manifest: dict) -> bool:
        upto = manifest["upto"]
        rows = session.execute(select(func.count()).select_from(FileHashRow).where(
            FileHashRow.hash_type == PDQ.name, FileHashRow.id <= upto)).scalar_one()
        last = session.execute(select(FileHashRow.value).where(
            FileHashRow.id == upto, FileHashRow.hash_type == PDQ.name)).scalar_one_or_none()
        return rows == manifest["rows"] and last == manifest["last"]

    def _values(self, session: Session, *where) -> np.ndarray:
        values = session.execute(select(FileHashRow.value).distinct().where(
            FileHashRow.hash_type == PDQ.name, *where)).scalars().all()
        return hex_to_rows(sorted(values))

    def _rebuild(self, session: Session) -> dict:
        upto, rows = session.execute(select(func.max(FileHashRow.id), func.count()).where(
            FileHashRow.hash_type == PDQ.name)).one()
        upto = upto or 0
        last = session.execute(select(FileHashRow.value).where(FileHashRow.id == upto)).scalar_one_or_none()
        values = self._values(session, FileHashRow.id <= upto)
        main = f"g{uuid.uuid4().hex[:12]}-files"
        MultiIndex.build(values).save(self.folder, main)
        manifest = {"format": FORMAT, "kind": "files", "main": main, "main_size": len(values), "upto": upto,
                    "rows": rows, "last": last}
        publish(self.folder, manifest, main)
        return manifest
