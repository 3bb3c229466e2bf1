"""Keys and secrets kept in files only their owner may read (0600): the web's session key, the
audit chain's key, an identity provider's client secret. A file others may read is refused by
name; a key that does not exist yet is made on first use, owner-only from the first byte.

The store's own files are made the same way (`private_folder`, `private_open`): the SQLite file,
the PDQ index, the documents `reports raw` writes — personal data, for the account that runs
tiptriage only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from tiptriage.config import sqlite_path
from tiptriage.i18n import refusal


def beside_store(database_url: str, name: str) -> Path:
    """Where a key lives when no setting says: next to the SQLite file, or under var/."""
    db = sqlite_path(database_url)
    return (db.parent if db else Path("var")) / name


def private_folder(path: Path) -> Path:
    """`path` made as a folder only its owner may enter (0700) when it does not exist yet; an
    existing folder is left as its owner set it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def private_open(path: Path, mode: str = "wb", *, exclusive: bool = False):
    """`path` opened to write, made owner-only (0600) from the first byte when it is new; with
    `exclusive`, an existing file is refused (FileExistsError) rather than overwritten."""
    flags = os.O_CREAT | (os.O_EXCL if exclusive else 0)
    flags |= os.O_RDWR | os.O_APPEND if "a" in mode else os.O_WRONLY | (0 if exclusive else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), mode)


def refuse_if_shared(path: Path) -> None:
    """Refuse a file its group or others may read or write (FileNotFoundError passes through)."""
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise refusal(ValueError, "{path} may be read by others than its owner (chmod 600 it)", path=str(path))


def read_owner_only(path: Path) -> str:
    """The file's text, stripped; refused when others may read it or it cannot be read."""
    try:
        refuse_if_shared(path)
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise refusal(ValueError, "{path}: {error}", path=str(path), error=os.strerror(exc.errno or 0)) from None


def owner_only_key(path: Path, make: Callable[[], str]) -> str:
    """The key in `path`, made with `make` when the file does not exist yet. Written to a private
    temporary file and linked into place, so two processes starting at once agree on one key and
    neither reads a half-written one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:  # another process made it first: theirs is the key
            pass
        finally:
            draft.unlink()
    return read_owner_only(path)
