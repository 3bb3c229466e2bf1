"""Fixtures: a PDQ index folder per test (media keeps one next to each database)."""

from __future__ import annotations

import pytest

from tiptriage.config import get_settings


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_PDQ_INDEX_DIR", str(tmp_path / "pdq-index"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
