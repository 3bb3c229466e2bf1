"""Intake formats: one module each, all producing `ParsedReport`s.

`read_file` picks the format from the content, not the file name, and yields either parsed
reports or IntakeErrors (one bad record never stops the others in the same file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from tiptriage.intake.domain import Parsed
from tiptriage.intake.errors import IntakeError
from tiptriage.safetext import latin_lookalikes


MAX_REASON = 500
# Byte-order marks and the encodings they announce: format detection looks past them.
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))


@dataclass
class Ctx:
    """Where we are while parsing, so every error names file, record, report and field."""

    path: str
    record: int | None = None
    report_id: str | None = None
    raw: bytes | None = None

    def error(self, reason: str, field: str | None = None) -> IntakeError:
        if len(reason) > MAX_REASON:  # a reason names the problem; it never carries a document
            reason = reason[:MAX_REASON] + "...(cut)"
        return IntakeError(self.path, reason, report_id=self.report_id, field=field,
                           record=self.record, raw=self.raw)

    def worded(self, msgid: str, field: str | None = None, /, **values: object) -> IntakeError:
        """An error whose reason the reader is told in their language (msgid marked with N_)."""
        return IntakeError.worded(self.path, msgid, report_id=self.report_id, field=field, record=self.record,
                                  raw=self.raw, **values)

    def check(self, field: str, convert: Callable[..., Any], *args: Any) -> Any:
        try:
            return convert(*args)
        except ValueError as exc:
            raise self.error(str(exc), field) from None

    def failed(self, exc: Exception) -> IntakeError:
        """What a reader yields for a record that raised: the IntakeError, without its traceback
        (which would keep the parse's frames alive for every refused record), or one naming `exc`."""
        if isinstance(exc, IntakeError):
            return exc.with_traceback(None)
        return self.error(f"unreadable: {type(exc).__name__}: {exc}")

    def require(self, field: str, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise self.error("required field is missing or empty", field)
        return value


def detect(data: bytes) -> str:
    """Which format a file is in, from its first character that is not a byte-order mark or blank.

    A UTF-16/32 byte-order mark is decoded past, so a UTF-16 JSON file is not taken for XML: each
    reader then says clearly whether it accepts that encoding (XML does, JSON and CSV do not).
    """
    head = data[:4096]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            head = head[len(bom):len(bom) + 256].decode(encoding, errors="replace").encode("utf-8", "replace")
            break
    head = head.lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        return "cybertip-xml"
    if head.startswith(b"{") or head.startswith(b"["):
        return "tiptriage-json"
    return "csv"


def read_file(path: str, data: bytes) -> Iterator:
    """Parsed items (Parsed or SiblingFile) and IntakeErrors of one file, in order."""
    from tiptriage.intake.formats import csv_lists, cybertip, tiptriage_json

    readers = {"cybertip-xml": cybertip.read, "tiptriage-json": tiptriage_json.read, "csv": csv_lists.read}
    for item in readers[detect(data)](path, data):
        yield _lookalikes_read(item) if isinstance(item, Parsed) else item


LOOKALIKE = "lookalike"


def _lookalikes_read(item: Parsed) -> Parsed:
    """A report whose source or id mixes in look-alike letters of another script ("BКA" with a
    Cyrillic К): read as the Latin letters, so it is the same report as the one spelled plainly
    (de-duplication, versions), and flagged for the analyst with what was received (the raw
    document keeps it byte for byte). Identifiers with look-alikes are flagged only."""
    r = item.report
    flags, fields = [], {}
    if not (r.source.isascii() and r.external_id.isascii()):  # nearly every report is
        for name in ("source", "external_id"):
            received = getattr(r, name)
            read = latin_lookalikes(received)
            if read is not None:
                flags.append((LOOKALIKE, name, received, read))
                fields[name] = read
    # A person's identifier ("раураl" as a screen name) is flagged, not changed: it is what the
    # platform recorded, and linkage compares it as such.
    for person in r.persons:
        for i in person.identifiers:
            if not i.value.isascii() and (read := latin_lookalikes(i.value)) is not None:
                flags.append((LOOKALIKE, "identifier", f"{person.ref} {i.kind} {i.value}", read))
    return Parsed(replace(r, **fields, flags=r.flags + tuple(flags)), item.raw) if flags else item
