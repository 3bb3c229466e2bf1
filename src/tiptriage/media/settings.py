"""Where the PDQ index lives. The media settings themselves are in tiptriage.config."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tiptriage.config import get_settings, sqlite_path


def index_dir(database_url: str) -> Path:
    """The PDQ index folder for this database: one index per database, never shared."""
    configured = get_settings().pdq_index_dir
    if configured is not None:
        return configured
    path = sqlite_path(database_url)
    if path is not None:
        return path.with_name(path.name + ".pdq-index")
    # No file to sit next to: a folder per database, named by a digest of its URL.
    return Path("var") / "pdq-index" / hashlib.sha256(database_url.encode()).hexdigest()[:16]
