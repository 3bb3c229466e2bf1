"""tiptriage JSON: round trip, and every kind of bad input ends as an error that names where."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings

from tiptriage.intake.domain import Parsed
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import read_file, tiptriage_json

from .strategies import reports, texts

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MD5 = "0123456789abcdef0123456789abcdef"


def good(external_id: str = "H-1", **extra) -> dict:
    return {"format_version": 1, "source": "Meldpunt Kinderporno", "external_id": external_id,
            "persons": [{"ref": "p1", "given_name": "Sanne", "identifiers": [{"kind": "email",
                                                                              "value": "sanne@example.nl"}]}],
            "files": [{"ref": "f1", "person_ref": "p1", "hashes": [{"hash_type": "MD5", "value": MD5}]}]} | extra


def read(data: bytes | dict | list, path: str = "in.json") -> list:
    if not isinstance(data, bytes):
        data = json.dumps(data).encode()
    return list(tiptriage_json.read(path, data))


def only_error(data, path: str = "in.json") -> IntakeError:
    items = read(data, path)
    assert len(items) == 1 and isinstance(items[0], IntakeError), items
    assert items[0].path == path
    return items[0]


@SETTINGS
@given(report=reports(source=texts("company", max_size=200)))
def test_written_reports_read_back_equal_but_for_the_format(report):
    # generated as CyberTipline reports (any source): a report is the same whichever format it
    # came in, only `format` tells them apart
    (item,) = read(tiptriage_json.write(report))
    assert item.report == replace(report, format="tiptriage-json")


def test_a_good_report_reads():
    (item,) = read(good())
    assert item.report.external_id == "H-1" and item.report.files[0].hashes[0].value == MD5


@pytest.mark.parametrize("data, reason", [
    (b'{"format_version": 1, "source": "S",', "malformed JSON (line 1, column"),
    (b'{"format_version": 1, "source": "S\xff\xfe"}', "not valid UTF-8 at byte"),
    ('{"format_version": 1, "source": "S"}'.encode("utf-16"), "must be UTF-8"),
    (b'{"format_version": 1, "source": "S", "external_id": "1", "persons": [{"ref": "p1", "age": NaN}]}',
     "NaN is not a JSON number"),
    (b'"just a string"', "expected a report object"),
    (b'', "malformed JSON"),
])
def test_unreadable_documents_are_refused_naming_the_file(data, reason):
    err = only_error(data)
    assert reason in err.reason and err.message.startswith("in.json: ")


def test_a_byte_order_mark_is_tolerated():
    (item,) = read(b"\xef\xbb\xbf" + json.dumps(good()).encode())
    assert isinstance(item, Parsed)


@pytest.mark.parametrize("change, field", [
    ({"source": 5}, "source"),
    ({"format_version": 2}, "format_version"),
    ({"persons": [{"ref": "p1", "age": "twelve"}]}, "persons/0/age"),
    ({"persons": [{"ref": "p1", "identifiers": [{"kind": "fax", "value": "1"}]}]}, "persons/0/identifiers/0/kind"),
    ({"files": [{"ref": "f1", "hashes": [{"hash_type": "md5", "value": 5}]}]}, "files/0/hashes/0/value"),
    ({"files": [{"ref": "f1", "viewed_by_esp": "yes"}]}, "files/0/viewed_by_esp"),
    ({"surprise": True}, None),
])
def test_schema_errors_name_the_field_path(change, field):
    err = only_error(good(**change))
    assert err.field == field and "does not match the schema" in err.reason
    assert err.report_id == "H-1"


@pytest.mark.parametrize("change, field, reason", [
    ({"incident_at": "2023-02-30T10:00:00Z"}, "incident_at", "not an ISO 8601"),
    ({"incident_at": "1850-01-01T00:00:00Z"}, "incident_at", "out of range"),
    ({"files": [{"ref": "f1", "hashes": [{"hash_type": "md5", "value": "abc"}]}]}, "files/0/hashes/0",
     "expected 32 hex digits"),
    ({"files": [{"ref": "f1", "hashes": [{"hash_type": "tlsh", "value": MD5}]}]}, "files/0/hashes/0",
     "unknown hash type"),
    ({"persons": [{"ref": "p1", "given_name": "Jan\ud800"}]}, "persons/0/given_name", "not valid Unicode"),
    ({"persons": [{"ref": "p\u0000"}]}, "persons/0/ref", "control characters"),
    ({"persons": [{"ref": "p1", "prior_reports": ["1" * 300]}]}, "persons/0/prior_reports/0", "longer than"),
    ({"files": [{"ref": "f1", "annotations": ["  "]}]}, "files/0/annotations/0", "missing or empty"),
    ({"persons": [{"ref": "p1", "estimated_country": "N" * 65}]}, "persons/0/estimated_country", "longer than"),
    ({"persons": [{"ref": "p1"}, {"ref": "p1"}]}, "persons/1/ref", "used twice"),
    ({"files": [{"ref": "f1", "person_ref": "p9"}]}, "files/0/person_ref", "not in the report"),
    ({"files": [{"ref": "f1", "recipients": ["r1"]}]}, "files/0/recipients/0", "not in the report"),
])
def test_bad_values_are_refused_naming_the_field(change, field, reason):
    err = only_error(good(**change))
    assert err.field == field and reason in err.reason, err.message


def test_one_bad_record_among_good_ones_is_refused_alone():
    items = read({"reports": [good("A"), good("B", files=[{"ref": "f1", "hashes": [{"hash_type": "md5",
                                                                                   "value": "zz"}]}]), good("C")]})
    assert [type(i).__name__ for i in items] == ["Parsed", "IntakeError", "Parsed"]
    assert [i.report.external_id for i in items if isinstance(i, Parsed)] == ["A", "C"]
    err = items[1]
    assert (err.record, err.report_id, err.field) == (2, "B", "files/0/hashes/0")
    assert err.message.startswith("in.json: record 2: report B: field files/0/hashes/0: ")


def test_each_record_of_an_array_keeps_its_own_raw_bytes():
    items = read([good("A"), good("B")])
    assert [json.loads(i.raw)["external_id"] for i in items] == ["A", "B"]


@pytest.mark.parametrize("number", [b"1" + b"0" * 5000, b"1e400", b"-1e400", b"123456789012345678901234567890"])
def test_very_large_numbers_are_refused_not_crashed_on(number):
    data = b'{"format_version": 1, "source": "S", "external_id": "1", "persons": [{"ref": "p1", "age": ' \
           + number + b"}]}"
    err = only_error(data)
    assert err.path == "in.json" and len(err.reason) < 600


def test_a_whole_number_written_as_float_is_an_int():
    (item,) = read(good(persons=[{"ref": "p1", "age": 15.0, "ip_events": [{"ip": "192.0.2.1", "port": 443.0}]}]))
    person = item.report.persons[0]
    assert (person.age, type(person.age), person.ip_events[0].port, type(person.ip_events[0].port)) == (
        15, int, 443, int)


def test_an_external_id_too_long_to_store_is_not_used_to_name_the_report():
    err = only_error(good("x" * 5000))
    assert err.report_id is None and err.field == "external_id"


@pytest.mark.parametrize("depth", [50, 5_000, 200_000])
def test_deeply_nested_arrays_are_an_error_not_a_crash(depth):
    data = b"[" * depth + b"]" * depth
    items = list(read_file("deep.json", data))
    assert items and all(isinstance(i, IntakeError) and i.path == "deep.json" for i in items)


def test_deep_nesting_inside_one_record_of_many_is_that_records_error():
    inner = "[" * 100 + "]" * 100  # beyond MAX_DEPTH, far within any interpreter stack
    data = f'[{json.dumps(good("A"))}, {{"format_version": 1, "source": "S", "external_id": "B", ' \
           f'"annotations": {inner}}}]'.encode()
    items = read(data)
    assert isinstance(items[0], Parsed)
    assert isinstance(items[1], IntakeError) and items[1].record == 2
