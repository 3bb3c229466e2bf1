"""Fixtures: a PDQ index folder per test (media keeps one next to each database)."""

from __future__ import annotations

import pytest

from tiptriage.media.settings import media_settings


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(tmp_path / "pdq-index"))
    media_settings.cache_clear()
    yield
    media_settings.cache_clear()
