"""Small builders shared by tests (plain functions, importable as `tests_support`)."""

from __future__ import annotations

from pathlib import Path

from intake.test_store import make_report, write_xml  # noqa: F401 - re-exported for other tests


def write_reports(folder: Path, n: int, start: int = 0) -> list[Path]:
    return [write_xml(folder, make_report(k)) for k in range(start, start + n)]
