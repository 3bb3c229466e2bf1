"""Media settings, from environment variables (prefix TIPTRIAGE_), like tiptriage.config."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tiptriage.config import sqlite_path


class MediaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIPTRIAGE_")

    # PDQ: a match is a Hamming distance at most this (Meta's confident-match threshold is 31).
    pdq_max_distance: int = Field(31, ge=0, le=128)
    # PDQ hashes of lower quality describe flat or featureless images: not matched, marked so.
    pdq_min_quality: int = Field(50, ge=0, le=100)
    # Where the PDQ index lives; empty: next to the SQLite file, or under var/ for PostgreSQL.
    pdq_index_dir: Path | None = None
    # Files matched per database round trip (retro-matching walks every stored file in such steps).
    match_batch_files: int = Field(2000, ge=1)


@lru_cache(maxsize=1)
def media_settings() -> MediaSettings:
    return MediaSettings()


def index_dir(database_url: str) -> Path:
    """The PDQ index folder for this database: one index per database, never shared."""
    configured = media_settings().pdq_index_dir
    if configured is not None:
        return configured
    path = sqlite_path(database_url)
    if path is not None:
        return path.with_name(path.name + ".pdq-index")
    # No file to sit next to: a folder per database, named by a digest of its URL.
    return Path("var") / "pdq-index" / hashlib.sha256(database_url.encode()).hexdigest()[:16]
