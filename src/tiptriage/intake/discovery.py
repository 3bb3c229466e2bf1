"""Ingest: which files to read — files named directly, and report files found below folders.

Only regular files are read. What is not one is refused by name and never opened, so a FIFO
cannot hang the ingest and a device is never touched: a FIFO, a socket or a device named on the
command line, and below a folder every entry with a report suffix that is not a regular file.
A symbolic link below a folder is followed only to a regular file inside that same folder; a link
that leaves it (to /etc/passwd, to a report elsewhere) or ends nowhere is refused by name. Links to
folders below a folder are not followed (as before). A link named on the command line is the
user's own choice and is followed, to a regular file only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from tiptriage.i18n import N_, Words

INPUT_SUFFIXES = {".xml", ".json", ".csv"}


class RefusedPath(type(Path())):  # the concrete class (PosixPath): Path itself cannot be subclassed before 3.12
    """A path found but not to be read: it travels with the files in order, its refusal with it."""

    msgid: str
    values: dict


def refused_path(path: Path | str, msgid: str, **values: object) -> RefusedPath:
    p = RefusedPath(path)
    p.msgid, p.values = msgid, values
    return p


NOT_REGULAR = N_("not a regular file ({kind}): not read")
LINK_LEAVES = N_("a symbolic link that leaves the folder {folder}: not followed")
LINK_BROKEN = N_("a symbolic link to nothing: not followed")


def find_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, and report files (.xml, .json, .csv) found below folders, sorted.

    Entries that must not be read come as RefusedPath, in their place (see the module's text)."""
    found: dict[Path, None] = {}  # ordered, and a file named twice (or below two folders) is read once
    for p in paths:
        if isinstance(p, RefusedPath):  # found by an earlier call (the CLI counts files first)
            found[p] = None
            continue
        p = p if isinstance(p, Path) else Path(p)  # Path(a Path) parses it again: 0.1 s for 14k files
        if p.is_dir():
            found.update((f, None) for f in _report_files(p))
        else:
            found[_named(p)] = None
    return list(found)


def kind_of(mode: int) -> Words | None:
    """What a file that is not a regular one is (None for a regular file), said in the reader's words."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in ((stat.S_ISFIFO, N_("FIFO")), (stat.S_ISSOCK, N_("socket")),
                       (stat.S_ISCHR, N_("character device")), (stat.S_ISBLK, N_("block device")),
                       (stat.S_ISDIR, N_("folder"))):
        if test(mode):
            return Words(kind)
    return Words(N_("special file"))


def _named(p: Path) -> Path:
    """A path named on the command line: read when it is (or links to) a regular file."""
    try:
        mode = os.stat(p).st_mode
    except OSError:
        return p  # the reader says why it cannot read it
    kind = kind_of(mode)
    return p if kind is None else refused_path(p, NOT_REGULAR, kind=kind)


def _report_files(folder: Path) -> list[Path]:
    """The report files below `folder` in the order of sorted(folder.rglob("*")), which stats every
    entry and builds a Path per step: a folder of 100k reports took seconds before any parsing.
    As rglob: symbolic links to folders are not followed, unreadable folders are skipped."""
    root = str(folder)
    real_root: str | None = None  # resolved once, when the first link is met
    names: list[tuple[str, ...]] = []
    refused: dict[tuple[str, ...], tuple[str, dict]] = {}
    pending = [()]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(os.path.join(root, *rel)) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((*rel, entry.name))
                        continue
                    if os.path.splitext(entry.name)[1].lower() not in INPUT_SUFFIXES:
                        continue
                    parts = (*rel, entry.name)
                    names.append(parts)
                    if entry.is_file(follow_symlinks=False):  # the common case: no extra system call
                        continue
                    if entry.is_symlink():
                        real_root = real_root or os.path.realpath(root)
                        why = _link_refusal(entry.path, real_root, folder)
                    else:
                        why = (NOT_REGULAR, {"kind": kind_of(entry.stat(follow_symlinks=False).st_mode)})
                    if why:
                        refused[parts] = why
        except PermissionError:
            continue
    names.sort()  # a Path sorts by its parts
    return [refused_path(folder.joinpath(*parts), refused[parts][0], **refused[parts][1]) if parts in refused
            else folder.joinpath(*parts) for parts in names]


def _link_refusal(link: str, real_root: str, folder: Path) -> tuple[str, dict] | None:
    """Why a symbolic link below `folder` is not followed, or None when it leads to a regular file
    inside the folder."""
    target = os.path.realpath(link)
    if os.path.commonpath([target, real_root]) != real_root:
        return LINK_LEAVES, {"folder": str(folder)}
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return LINK_BROKEN, {}
    kind = kind_of(mode)
    return None if kind is None else (NOT_REGULAR, {"kind": kind})
