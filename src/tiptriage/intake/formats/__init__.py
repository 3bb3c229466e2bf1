"""Intake formats: one module each, all producing `ParsedReport`s.

`read_file` picks the format from the content, not the file name, and yields either parsed
reports or IntakeErrors (one bad record never stops the others in the same file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tiptriage.intake.errors import IntakeError


@dataclass
class Ctx:
    """Where we are while parsing, so every error names file, record, report and field."""

    path: str
    record: int | None = None
    report_id: str | None = None
    raw: bytes | None = None

    def error(self, reason: str, field: str | None = None) -> IntakeError:
        return IntakeError(self.path, reason, report_id=self.report_id, field=field,
                           record=self.record, raw=self.raw)

    def check(self, field: str, convert: Callable[..., Any], *args: Any) -> Any:
        try:
            return convert(*args)
        except ValueError as exc:
            raise self.error(str(exc), field) from None

    def require(self, field: str, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise self.error("required field is missing or empty", field)
        return value


def detect(data: bytes) -> str:
    """Which format a file is in, from its first meaningful bytes."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") or head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        return "cybertip-xml"
    if head.startswith(b"{") or head.startswith(b"["):
        return "tiptriage-json"
    return "csv"


def read_file(path: str, data: bytes) -> Iterator:
    """Parsed items (Parsed or SiblingFile) and IntakeErrors of one file, in order."""
    from tiptriage.intake.formats import csv_lists, cybertip, tiptriage_json

    readers = {"cybertip-xml": cybertip.read, "tiptriage-json": tiptriage_json.read, "csv": csv_lists.read}
    yield from readers[detect(data)](path, data)
