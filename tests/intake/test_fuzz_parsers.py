"""Fuzzing the JSON and CSV readers with Hypothesis, a bounded number of examples per run (this is
part of `make test`): whatever the bytes, reading gives parsed reports whose rows can be built, or
refusals that name the file — never another exception.

The inputs are valid documents with their bytes mutated (cut, flipped, spliced with hostile pieces),
JSON values of any shape, with and without duplicate keys, and CSV text of any cells under a
header of the real columns.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiptriage.intake.domain import Parsed
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import csv_lists, read_file, tiptriage_json
from tiptriage.intake.prepared import Candidate, prepare

from .strategies import csv_reports, reports, texts

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PATH = "fuzzed.input"

# Pieces hostile input is made of: quotes, separators, brackets, controls, bidi, BOMs, big numbers.
PIECES = st.sampled_from([b'"', b",", b"\r\n", b"\n", b"{", b"}", b"[", b"]", b":", b"\\", b"\\u0000",
                          b"\\ud800", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", "\u202e".encode(), b"=cmd|'/c calc'!A1",
                          b"1e999999", b"-0", b"NaN", b"9" * 400, b'"source"', b'"external_id"', b'"persons"',
                          b'"ref"', b"\t", b";", b"null", b"true", "\u041a".encode()])


@st.composite
def mutated(draw, document: bytes) -> bytes:
    data = bytearray(document)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(("cut", "flip", "insert", "delete")))
        if kind == "cut":
            del data[at:]
        elif kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(PIECES)
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 20))]
    return bytes(data)


def assert_read_or_refused(data: bytes) -> None:
    for item in read_file(PATH, data):  # any other exception fails the test
        if isinstance(item, IntakeError):
            assert item.path == PATH and item.message.startswith(f"{PATH}: ") and item.reason
            assert isinstance(item.said, str)
        else:
            assert isinstance(item, Parsed), item
            prepare(Candidate(item.report, [(PATH, item.raw)]), sqlite=True)  # the rows the store writes
            prepare(Candidate(item.report, [(PATH, item.raw)]), sqlite=False)


JSON_DOCS = st.lists(reports(source=texts("company", max_size=200), format="tiptriage-json"),
                     min_size=1, max_size=2).map(
    lambda rs: tiptriage_json.write(rs[0]) if len(rs) == 1 else
    json.dumps([json.loads(tiptriage_json.write(r)) for r in rs]).encode())


@FUZZ
@given(data=st.data(), document=JSON_DOCS)
def test_mutated_json_is_read_or_refused_naming_the_file(data, document):
    assert_read_or_refused(data.draw(mutated(document)))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["format_version", "source", "external_id", "persons", "files", "ref", "hashes",
                         "reports", "value", "kind"]) | st.text(max_size=8), inner, max_size=5),
    max_leaves=20)


@st.composite
def json_with_duplicates(draw) -> bytes:
    """A JSON object text, perhaps naming one of its keys twice (which json.dumps cannot write)."""
    value = draw(st.dictionaries(st.sampled_from(["format_version", "source", "external_id", "persons"]),
                                 JSON_VALUES, min_size=1, max_size=4))
    text = json.dumps(value)
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        text = text[:-1] + f", {json.dumps(key)}: {json.dumps(draw(JSON_VALUES))}}}"
    return text.encode()


@FUZZ
@given(document=JSON_VALUES.map(lambda v: json.dumps(v).encode()) | json_with_duplicates())
def test_json_of_any_shape_is_read_or_refused_naming_the_file(document):
    assert_read_or_refused(document)


@FUZZ
@given(data=st.data(), rs=st.lists(csv_reports(), min_size=1, max_size=3))
def test_mutated_csv_is_read_or_refused_naming_the_file(data, rs):
    assert_read_or_refused(data.draw(mutated(csv_lists.write(rs))))


CELLS = st.text(max_size=12) | st.sampled_from(["", "=1+1", "@x", "2023-02-30", "-1", "999999999999",
                                               "0123456789abcdef0123456789abcdef", "B\u041aA", "\u202e", "\r\n"])


@FUZZ
@given(columns=st.lists(st.sampled_from(csv_lists.COLUMNS), min_size=1, max_size=8, unique=True),
       rows=st.lists(st.lists(CELLS, max_size=9), max_size=4))
def test_csv_of_any_cells_is_read_or_refused_naming_the_file(columns, rows):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    assert_read_or_refused(out.getvalue().encode("utf-8", "surrogatepass"))
