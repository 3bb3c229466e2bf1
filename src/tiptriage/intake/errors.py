"""The one error type of intake: it always names the file, the record and the field."""

from __future__ import annotations


class IntakeError(Exception):
    def __init__(self, path: str, reason: str, *, report_id: str | None = None,
                 field: str | None = None, record: int | None = None, raw: bytes | None = None):
        self.path = path
        self.reason = reason
        self.report_id = report_id
        self.field = field
        self.record = record
        self.raw = raw
        super().__init__(self.message)

    def __reduce__(self):
        # Errors cross process boundaries (parallel parsing); the default reduce loses the fields.
        return (_rebuild, (self.path, self.reason, self.report_id, self.field, self.record, self.raw))

    @property
    def message(self) -> str:
        where = [self.path]
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.report_id:
            where.append(f"report {self.report_id}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{': '.join(where)}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.path, "record": self.record, "report_id": self.report_id,
                "field": self.field, "reason": self.reason}


def _rebuild(path, reason, report_id, field, record, raw) -> IntakeError:
    return IntakeError(path, reason, report_id=report_id, field=field, record=record, raw=raw)
