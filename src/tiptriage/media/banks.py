"""Bank file importers: VICS (Project VIC) JSON, CSV, and one-hash-a-line lists.

Each importer turns a file into BankRecords with the bank's own category code mapped to ours.
A file is taken whole or not at all: every problem is collected with its line or record number,
and any problem refuses the file, so a bad export never replaces a good bank version.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from tiptriage import hashtypes
from tiptriage.i18n import N_, _, number, refusal
from tiptriage.media.models import BANK_FORMATS, CATEGORIES

IGNORE = "ignore"  # a mapping target: entries of that source category are left out of the bank
# Project VIC's US profile; other sources number their categories differently: map per bank.
VICS_DEFAULT_MAP = {"0": "non_pertinent", "1": "child_abuse", "2": "exploitive", "3": "cgi_animation",
                    "4": "non_pertinent"}
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class BankRecord:
    hash_type: str
    value: str
    category: str
    source_category: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    quality: int | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Problem:
    """Where and why a bank file is refused. `reason` is the English text (the audit log, `--json`);
    `msgid` and `values` say it in the reader's language (`said`). `more` counts further places
    with the same problem, so one unmapped code in 10,000 rows is one problem, not 10,000."""

    reason: str
    line: int | None = None
    record: int | None = None
    field: str | None = None
    msgid: str | None = dataclasses.field(default=None, compare=False, repr=False)
    values: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    more: int = 0

    def __str__(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in (("line", self.line), ("record", self.record),
                                                   ("field", self.field)) if v is not None)
        text = f"{where}: {self.reason}" if where else self.reason
        return text + (f" (and {self.more} more)" if self.more else "")

    def said(self) -> str:
        """The reason in the reader's language, with how many more places have it."""
        text = _(self.msgid, **self.values) if self.msgid else self.reason
        return text + (" " + _("(and {n} more)", n=number(self.more)) if self.more else "")

    def as_dict(self) -> dict:
        return {"reason": self.reason, "line": self.line, "record": self.record, "field": self.field,
                "more": self.more}


def problem(msgid: str, /, *, line: int | None = None, record: int | None = None, field: str | None = None,
            **values: object) -> Problem:
    """A problem whose reason is a message (marked for translation where it is called)."""
    return Problem(msgid.format(**values), line, record, field, msgid, values)


def problem_of(error: ValueError, **where) -> Problem:
    """A problem from a value check's refusal, keeping its message id when it has one."""
    return Problem(str(error), **where, msgid=getattr(error, "msgid", None), values=getattr(error, "values", {}))


def grouped(problems: list[Problem]) -> list[Problem]:
    """One problem per reason and field, at its first place, counting the others (`more`)."""
    first: dict[tuple, int] = {}
    out: list[Problem] = []
    for p in problems:
        key = (p.reason, p.field)
        if key in first:
            i = first[key]
            out[i] = replace(out[i], more=out[i].more + 1 + p.more)
        else:
            first[key] = len(out)
            out.append(p)
    return out


class BankFormatError(Exception):
    """The file is refused; `problems` says where and why (at most MAX_PROBLEMS of them)."""

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        self.problems, self.more = problems, more
        super().__init__("; ".join(map(str, problems[:5])) + (f" (+{len(problems) - 5 + more} more)"
                                                               if len(problems) + more > 5 else ""))


@dataclass(frozen=True)
class ImportSettings:
    """How a bank's file is read: its category map, and defaults for what the file leaves out."""

    format: str
    category_map: dict[str, str] = field(default_factory=dict)
    default_category: str | None = None
    hash_type: str | None = None  # for lines; otherwise inferred from the value's length

    def __post_init__(self) -> None:
        if self.format not in BANK_FORMATS:
            raise refusal(ValueError, "unknown bank format {format!r} (one of {formats})", format=self.format,
                          formats=", ".join(BANK_FORMATS))
        for source, ours in self.category_map.items():
            if ours not in CATEGORIES and ours != IGNORE:
                raise refusal(ValueError, "category map: {source!r} → {ours!r} is not one of {categories} or {ignore}",
                              source=source, ours=ours, categories=", ".join(CATEGORIES), ignore=IGNORE)
        if self.default_category is not None and self.default_category not in CATEGORIES:
            raise refusal(ValueError, "default category {category!r} is not one of {categories}",
                          category=self.default_category, categories=", ".join(CATEGORIES))
        if self.hash_type is not None and self.hash_type not in hashtypes.NAMES:
            raise refusal(ValueError, "hash type {type!r} is not one of {types}", type=self.hash_type,
                          types=", ".join(hashtypes.NAMES))


def category_map(pairs: list[str]) -> dict[str, str]:
    """A bank's source codes mapped to ours from CODE=CATEGORY pairs (`--map`, the import form)."""
    mapping = {}
    for pair in pairs:
        code, sep, ours = pair.partition("=")
        if not sep or not code.strip():
            raise refusal(ValueError, "A mapping is CODE=CATEGORY, not {text}", text=pair)
        mapping[code.strip()] = ours.strip()
    return mapping


def default_settings(fmt: str) -> ImportSettings:
    if fmt == "vics":
        return ImportSettings("vics", dict(VICS_DEFAULT_MAP))
    if fmt == "lines":
        return ImportSettings("lines", default_category="child_abuse")
    return ImportSettings("csv", {c: c for c in CATEGORIES})


def detect_format(name: str, data: bytes) -> str:
    """By content first (a JSON object), then by the file name's suffix."""
    stripped = data.lstrip()[:1]
    if stripped == b"{":
        return "vics"
    if name.lower().endswith(".csv"):
        return "csv"
    return "lines"


def parse(data: bytes, settings: ImportSettings) -> list[BankRecord]:
    """All records of a bank file, merged per hash; raises BankFormatError for any problem."""
    problems: list[Problem] = []
    records: list[BankRecord] = []
    reader = {"vics": _vics, "csv": _csv, "lines": _lines}[settings.format]
    for item in reader(data, settings):
        if isinstance(item, Problem):
            problems.append(item)
        elif item is not None:
            records.append(item)
    if problems:
        problems = grouped(problems)
        raise BankFormatError(problems[:MAX_PROBLEMS], max(0, len(problems) - MAX_PROBLEMS))
    return merge(records)


def merge(records: list[BankRecord]) -> list[BankRecord]:
    """One record per (hash type, value): two files with one PDQ keep the more severe category."""
    by_key: dict[tuple[str, str], BankRecord] = {}
    for r in records:
        key = (r.hash_type, r.value)
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = r
        elif CATEGORIES.index(r.category) < CATEGORIES.index(seen.category):
            by_key[key] = replace(r, series=r.series or seen.series,
                                  victim_identified=_either(r.victim_identified, seen.victim_identified))
        else:
            by_key[key] = replace(seen, series=seen.series or r.series,
                                  victim_identified=_either(seen.victim_identified, r.victim_identified))
    return list(by_key.values())


def _either(a: bool | None, b: bool | None) -> bool | None:
    return True if True in (a, b) else (False if False in (a, b) else None)


# --- shared checks -------------------------------------------------------------------------------

def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BankFormatError([problem(N_("not UTF-8 text"), line=line)]) from None


def _category(source: object, settings: ImportSettings) -> str:
    """Our category for a source code (IGNORE to leave the entry out); ValueError if unmapped."""
    if source is None or (isinstance(source, str) and not source.strip()):
        if settings.default_category is None:
            raise refusal(ValueError, "no category, and the bank has no default category")
        return settings.default_category
    code = str(source).strip()
    if code in settings.category_map:
        return settings.category_map[code]
    raise refusal(ValueError, "category {code!r} has no mapping in this bank's settings (mapped: {mapped})",
                  code=code, mapped=", ".join(sorted(settings.category_map)) or "-")


def _normal(kind: hashtypes.HashType, value: object) -> str:
    """`kind.normalise`, its refusal said in the reader's language (hashtypes sits below i18n)."""
    try:
        return kind.normalise(value)
    except ValueError:
        raise refusal(ValueError, "invalid {type} hash {value}: expected {digits} hex digits", type=kind.name,
                      value=hashtypes.quoted(value), digits=kind.hex_digits) from None


def _kind(name: str) -> hashtypes.HashType:
    found = hashtypes.named(name)
    if found is None:
        raise refusal(ValueError, "unknown hash type {name} (expected one of {names})", name=hashtypes.quoted(name),
                      names=", ".join(hashtypes.NAMES))
    return found


def _boolean(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "null", "none"):
        return None
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise refusal(ValueError, "not true/false: {value!r}", value=value)


def _quality(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        quality = int(value)
    except (TypeError, ValueError):
        raise refusal(ValueError, "PDQ quality is not a whole number: {value!r}", value=value) from None
    if not 0 <= quality <= 100:
        raise refusal(ValueError, "PDQ quality out of 0..100: {quality}", quality=quality)
    return quality


def _optional_text(value: object, limit: int = 2000) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise refusal(ValueError, "longer than {limit} characters", limit=limit)
    return text or None


# --- VICS ------------------------------------------------------------------------------------------

def _vics(data: bytes, settings: ImportSettings) -> Iterator[BankRecord | Problem | None]:
    try:
        doc = json.loads(_text(data))
    except json.JSONDecodeError as exc:
        yield problem(N_("not valid JSON: {error}"), line=exc.lineno, error=exc.msg)
        return
    if not isinstance(doc, dict) or not ("odata.metadata" in doc or "@odata.context" in doc):
        yield problem(N_("not a VICS document: no 'odata.metadata' (v1.3) or '@odata.context' (v2.0)"))
        return
    media = doc.get("value")
    if not isinstance(media, list):
        yield problem(N_("'value' is not a list of media"), field="value")
        return
    for number, item in enumerate(media, start=1):
        yield from _vics_media(number, item, settings)


def _vics_media(number: int, item: object, settings: ImportSettings) -> Iterator[BankRecord | Problem]:
    if not isinstance(item, dict):
        yield problem(N_("a media record is not an object"), record=number)
        return
    try:
        category = _category(item.get("Category"), settings)
        common = {"source_category": _optional_text(item.get("Category"), 64),
                  "series": _optional_text(item.get("Series")),
                  "victim_identified": _boolean(item.get("VictimIdentified")),
                  "ref": _optional_text(item.get("MediaID"), 200)}
    except ValueError as exc:
        yield problem_of(exc, record=number)
        return
    hashes, problems = _vics_hashes(number, item)
    yield from problems
    if not hashes and not problems:
        yield problem(N_("media record has no MD5, SHA1 or other usable hash"), record=number)
    if category == IGNORE or problems:
        return
    for hash_type, value, quality in hashes:
        yield BankRecord(hash_type, value, category, quality=quality, **common)


def _vics_hashes(number: int, item: dict) -> tuple[list[tuple[str, str, int | None]], list[Problem]]:
    hashes: list[tuple[str, str, int | None]] = []
    problems: list[Problem] = []
    for kind in hashtypes.EXACT:  # VICS names these fields by the type in capitals: MD5, SHA1, SHA256
        name = kind.name.upper()
        if item.get(name) not in (None, ""):
            try:
                hashes.append((kind.name, _normal(kind, item[name]), None))
            except ValueError as exc:
                problems.append(problem_of(exc, record=number, field=name))
    alternatives = item.get("AlternativeHashes") or []
    if not isinstance(alternatives, list):
        return hashes, problems + [problem(N_("not a list"), record=number, field="AlternativeHashes")]
    for alt in alternatives:
        kind = hashtypes.named(alt.get("HashName")) if isinstance(alt, dict) else None
        if kind is None:
            continue  # PhotoDNA and other hashes we cannot compute are skipped, not refused
        try:
            quality = _quality(alt.get("Quality")) if kind.has_quality else None
            hashes.append((kind.name, _normal(kind, alt.get("HashValue")), quality))
        except ValueError as exc:
            problems.append(problem_of(exc, record=number, field=f"AlternativeHashes/{alt.get('HashName')}"))
    return hashes, problems


# --- CSV -------------------------------------------------------------------------------------------

CSV_REQUIRED = ("hash_type", "hash")
CSV_OPTIONAL = ("category", "series", "victim_identified", "quality", "ref")


def _csv(data: bytes, settings: ImportSettings) -> Iterator[BankRecord | Problem | None]:
    reader = csv.DictReader(io.StringIO(_text(data), newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        yield problem(N_("header lacks column(s) {columns} (needs hash_type,hash[,category,...])"), line=1,
                      columns=", ".join(missing))
        return
    reader.fieldnames = header
    for row in reader:
        yield _csv_row(reader.line_num, row, settings)


def _csv_row(line: int, row: dict, settings: ImportSettings) -> BankRecord | Problem | None:
    if None in row:
        return problem(N_("more fields than the header has columns"), line=line)
    field_name = "hash_type"
    try:
        kind = _kind(row.get("hash_type") or "")
        field_name = "hash"
        value = _normal(kind, row.get("hash"))
        field_name = "category"
        category = _category(row.get("category"), settings)
        field_name = "victim_identified"
        victim = _boolean(row.get("victim_identified"))
        field_name = "quality"
        quality = _quality(row.get("quality"))
        field_name = "series"
        series, ref = _optional_text(row.get("series")), _optional_text(row.get("ref"), 200)
    except ValueError as exc:
        return problem_of(exc, line=line, field=field_name)
    if category == IGNORE:
        return None
    return BankRecord(kind.name, value, category, _optional_text(row.get("category"), 64), series, victim,
                      quality, ref)


# --- one hash a line -----------------------------------------------------------------------------

def _lines(data: bytes, settings: ImportSettings) -> Iterator[BankRecord | Problem | None]:
    given = hashtypes.get(settings.hash_type) if settings.hash_type else None
    for number, raw in enumerate(_text(data).splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        kind = given or _by_length(text)
        if isinstance(kind, Problem):
            yield replace(kind, line=number)
            continue
        try:
            value = _normal(kind, text)
            category = _category(None, settings)
        except ValueError as exc:
            yield problem_of(exc, line=number)
            continue
        yield BankRecord(kind.name, value, category)


def _by_length(text: str) -> hashtypes.HashType | Problem:
    """A bare hash's type, when its length tells it (a list without --hash-type)."""
    kinds = hashtypes.of_length(len(text))
    if len(kinds) == 1:
        return kinds[0]
    if kinds:
        return problem(N_("{n} hex digits are {types}: give the bank's hash type"), n=len(text),
                       types=" or ".join(k.title for k in kinds))
    told = [k.title for k in hashtypes.ALL if len(hashtypes.of_length(k.hex_digits)) == 1]
    return problem(N_("not an {types} hash: {text!r}"), types=" or ".join(told), text=text[:80])
