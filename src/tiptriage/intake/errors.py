"""The one error type of intake: it always names the file, the record and the field."""

from __future__ import annotations

import re
import string
from functools import cache


class IntakeError(Exception):
    """A refusal. `reason` is English (the quarantine table and the audit log keep English); an
    error made with `worded` also keeps its message id and values, so the reader is told it in
    their own language (`said`)."""

    def __init__(self, path: str, reason: str, *, report_id: str | None = None,
                 field: str | None = None, record: int | None = None, raw: bytes | None = None,
                 msgid: str | None = None, values: dict | None = None):
        self.path = path
        self.reason = reason
        self.report_id = report_id
        self.field = field
        self.record = record
        self.raw = raw
        self.msgid = msgid
        self.values = values or {}
        super().__init__(self.message)

    @classmethod
    def worded(cls, path: str, msgid: str, /, *, report_id: str | None = None, field: str | None = None,
               record: int | None = None, raw: bytes | None = None, **values: object) -> IntakeError:
        """A refusal whose reason is a message id (marked with N_ where it is written) and values."""
        return cls(path, msgid.format(**values), report_id=report_id, field=field, record=record, raw=raw,
                   msgid=msgid, values=values)

    def __reduce__(self):
        # Errors cross process boundaries (parallel parsing); the default reduce loses the fields.
        return (_rebuild, (self.path, self.reason, self.report_id, self.field, self.record, self.raw,
                           self.msgid, self.values))

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

    @property
    def said(self) -> str:
        """The reason in the reader's language (as English when it has no message id yet)."""
        from tiptriage.i18n import Words, _

        if not self.msgid:
            return self.reason
        return _(self.msgid, **{k: v.said() if isinstance(v, Words) else v for k, v in self.values.items()})

    def as_dict(self) -> dict:
        return {"file": self.path, "record": self.record, "report_id": self.report_id,
                "field": self.field, "reason": self.reason}


def _rebuild(path, reason, report_id, field, record, raw, msgid=None, values=None) -> IntakeError:
    return IntakeError(path, reason, report_id=report_id, field=field, record=record, raw=raw,
                       msgid=msgid, values=values)


def said_again(reason: str, msgids: tuple[str, ...]) -> str:
    """A reason as recorded (English, in the quarantine) in the reader's language, when it was
    made from one of `msgids` (`IntakeError.worded`); else as recorded."""
    from tiptriage.i18n import Words, _

    for msgid in msgids:
        found, kinds = _pattern(msgid)
        match = found.fullmatch(reason)
        if match:
            values: dict[str, object] = {}
            for name, text in match.groupdict().items():
                if kinds[name] == "r":  # written with !r: the repr of a string
                    import ast

                    try:
                        values[name] = ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        return reason
                else:
                    values[name] = text
            if "kind" in values:  # a vocabulary word (discovery.kind_of)
                values["kind"] = Words(str(values["kind"])).said()
            return _(msgid, **values)
    return reason


@cache
def _pattern(msgid: str) -> tuple[re.Pattern, dict[str, str]]:
    kinds: dict[str, str] = {}
    parts = []
    for literal, name, _spec, conversion in string.Formatter().parse(msgid):
        parts.append(re.escape(literal))
        if name is not None:
            kinds[name] = conversion or ""
            parts.append(f"(?P<{name}>.*?)")
    return re.compile("".join(parts), re.S), kinds
