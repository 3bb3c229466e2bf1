"""CSV bulk lists: round trip for single-person reports, and bad lists refused naming line and column."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiptriage.intake.domain import Parsed
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import csv_lists, read_file

from .strategies import csv_reports, reports

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MD5 = "0123456789abcdef0123456789abcdef"
HEADER = "source,report_id,given_name,email,file_ref,md5"


def read(text: str | bytes, path: str = "list.csv") -> list:
    data = text.encode() if isinstance(text, str) else text
    return list(csv_lists.read(path, data))


def parsed(text: str | bytes) -> list:
    items = read(text)
    assert all(isinstance(i, Parsed) for i in items), [getattr(i, "message", i) for i in items]
    return [i.report for i in items]


def errors(text: str | bytes, path: str = "list.csv") -> list[IntakeError]:
    out = [i for i in read(text, path) if isinstance(i, IntakeError)]
    assert all(e.path == path and e.message.startswith(path) for e in out)
    return out


@SETTINGS
@given(report=csv_reports())
def test_written_single_person_reports_read_back_equal(report):
    assert parsed(csv_lists.write([report])) == [report]


@SETTINGS
@given(batch=st.lists(csv_reports(), max_size=4, unique_by=lambda r: (r.source, r.external_id)))
def test_a_list_of_reports_reads_back_in_order(batch):
    assert parsed(csv_lists.write(batch)) == batch


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports(max_per_role=1, max_files=2))
def test_what_csv_cannot_carry_is_dropped_and_the_rest_kept(report):
    (back,) = parsed(csv_lists.write([report]))
    assert (back.source, back.external_id, back.incident_type, back.incident_at, back.annotations) == (
        report.source, report.external_id, report.incident_type, report.incident_at, report.annotations)
    assert [(f.ref, f.action, f.classification, f.annotations) for f in back.files] == [
        (f.ref, f.action, f.classification, f.annotations) for f in report.files]


def test_a_header_in_any_case_and_spacing_reads():
    (report,) = parsed(" Source , REPORT_ID ,Given_Name\nHotline,7,Jan\n")
    assert (report.source, report.external_id, report.persons[0].given_name) == ("Hotline", "7", "Jan")


def test_a_byte_order_mark_and_crlf_line_ends_are_tolerated():
    (report,) = parsed(b"\xef\xbb\xbf" + f"{HEADER}\r\nHotline,7,Jan,,f1,{MD5}\r\n".encode())
    assert report.files[0].hashes[0].value == MD5


@pytest.mark.parametrize("text, reason", [
    ("", "empty file"),
    ("  \n\n", "empty file"),
    ("report_id,md5\n1,{md5}\n", "lacks column(s) source"),
    ("source,report_id,md5,MD5\nS,1,{md5},{md5}\n", "repeats column(s) md5"),
])
def test_a_list_without_a_usable_header_is_refused(text, reason):
    (err,) = errors(text.format(md5=MD5))
    assert reason in err.reason and err.field == "header"


def test_invalid_utf8_is_refused_naming_the_byte():
    (err,) = errors(f"{HEADER}\nHotline,7,J".encode() + b"\xff\n")
    assert "not valid UTF-8 at byte" in err.reason


def test_rows_of_one_report_that_disagree_name_the_line_and_the_column():
    text = f"{HEADER}\nH,7,Jan,jan@example.nl,f1,{MD5}\nH,8,Piet,,f1,{MD5}\nH,7,Jan,jan@example.org,f2,{MD5}\n"
    items = read(text)
    (err,) = [i for i in items if isinstance(i, IntakeError)]
    assert (err.record, err.report_id, err.field) == (4, "7", "email")
    assert "line 2" in err.reason
    assert [i.report.external_id for i in items if isinstance(i, Parsed)] == ["8"]


def test_an_invalid_hash_refuses_its_report_whole_and_names_the_line():
    text = f"{HEADER}\nH,7,Jan,,f1,{MD5}\nH,7,Jan,,f2,{MD5[:-1]}g\nH,8,Piet,,f1,{MD5}\n"
    items = read(text)
    (err,) = [i for i in items if isinstance(i, IntakeError)]
    assert (err.record, err.report_id, err.field) == (3, "7", "md5") and "expected 32 hex digits" in err.reason
    assert [i.report.external_id for i in items if isinstance(i, Parsed)] == ["8"]


@pytest.mark.parametrize("ragged", [f"H,7,Jan,,f2,{MD5},extra", "H,7,Jan"])
def test_a_ragged_row_refuses_its_report_whole(ragged):
    text = f"{HEADER}\nH,7,Jan,,f1,{MD5}\n{ragged}\nH,8,Piet,,f1,{MD5}\n"
    items = read(text)
    (err,) = [i for i in items if isinstance(i, IntakeError)]
    assert (err.record, err.report_id) == (3, "7") and "header has 6" in err.reason
    assert [(i.report.external_id, len(i.report.files)) for i in items if isinstance(i, Parsed)] == [("8", 1)]


def test_errors_name_the_physical_line_when_a_quoted_value_spans_lines():
    text = f'{HEADER}\nH,7,"Jan\nJansen",,f1,{MD5}\nH,9,Piet,,f1,nothex\n'
    (err,) = errors(text)
    assert (err.record, err.report_id, err.field) == (4, "9", "md5")


def test_each_report_keeps_its_own_lines_as_raw_bytes():
    text = f"{HEADER}\r\nH,7,Jan,,f1,{MD5}\r\nH,8,Piet,,f1,{MD5}\r\nH,7,Jan,,f2,{MD5}\r\n"
    raws = [i.raw for i in read(text)]
    assert raws == [f"{HEADER}\r\nH,7,Jan,,f1,{MD5}\r\nH,7,Jan,,f2,{MD5}\r\n".encode(),
                    f"{HEADER}\r\nH,8,Piet,,f1,{MD5}\r\n".encode()]


def test_a_report_id_too_long_to_store_is_refused_and_not_used_to_name_it():
    (err,) = errors(f"source,report_id\nH,{'9' * 201}\n")
    assert (err.field, err.report_id) == ("report_id", None) and "longer than 200" in err.reason


def test_a_value_larger_than_the_csv_field_limit_refuses_the_file():
    (err,) = errors(f"{HEADER}\nH,7,{'x' * 200_000},,f1,{MD5}\n")
    assert "malformed CSV (line 2)" in err.reason


def test_a_lone_carriage_return_in_a_value_survives_the_writer():
    report = next(iter(parsed(f'{HEADER}\nH,7,"Jan\rJansen",,f1,{MD5}\n')))
    assert report.persons[0].given_name == "Jan\rJansen"
    assert parsed(csv_lists.write([report])) == [report]


def test_read_file_detects_csv_by_content_not_by_name():
    (item,) = list(read_file("upload.txt", f"{HEADER}\nH,7,Jan,,f1,{MD5}\n".encode()))
    assert isinstance(item, Parsed) and item.report.format == "csv"


def test_a_report_without_files_is_kept():
    (report,) = parsed("source,report_id,given_name\nH,7,Jan\n")
    assert report.files == () and (report.persons[0].ref, report.persons[0].given_name) == ("p1", "Jan")
