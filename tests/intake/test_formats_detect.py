"""Format detection looks at the content, past byte-order marks and blanks, never at the file name."""

from __future__ import annotations

import pytest

from tiptriage.intake.domain import Parsed, ParsedReport
from tiptriage.intake.errors import IntakeError
from tiptriage.intake.formats import cybertip, detect, read_file, tiptriage_json

XML = b'<?xml version="1.0" encoding="UTF-8"?><report><reportId>1</reportId></report>'
JSON = b'{"format_version": 1, "source": "Hotline", "external_id": "1"}'
CSV = b"source,report_id\nHotline,1\n"


@pytest.mark.parametrize("data, expected", [
    (XML, "cybertip-xml"),
    (b"<report/>", "cybertip-xml"),
    (JSON, "tiptriage-json"),
    (b"[" + JSON + b"]", "tiptriage-json"),
    (CSV, "csv"),
    (b"", "csv"),
    (b"source;report_id\n", "csv"),
])
def test_each_format_is_known_by_its_first_character(data, expected):
    assert detect(data) == expected


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"\n\n", b"  \t\r\n", b"\xef\xbb\xbf \r\n"])
@pytest.mark.parametrize("data, expected", [(XML, "cybertip-xml"), (JSON, "tiptriage-json"), (CSV, "csv")])
def test_byte_order_marks_and_leading_blanks_do_not_change_the_format(prefix, data, expected):
    assert detect(prefix + data) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_byte_order_mark_is_looked_past(encoding):
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]
    assert detect(bom + "  <report/>".encode(encoding)) == "cybertip-xml"
    assert detect(bom + ' {"a": 1}'.encode(encoding)) == "tiptriage-json"


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"\n  \n"])
@pytest.mark.parametrize("data", [XML, JSON, CSV])
def test_what_detection_tolerates_the_readers_accept(prefix, data):
    items = list(read_file("in.dat", prefix + data))
    assert [type(i).__name__ for i in items] == ["Parsed"], [getattr(i, "message", i) for i in items]
    assert items[0].report.external_id == "1"


def test_the_file_name_does_not_decide_the_format():
    report = ParsedReport(source="Hotline", external_id="5", format="tiptriage-json")
    (item,) = list(read_file("looks-like.xml", tiptriage_json.write(report)))
    assert isinstance(item, Parsed) and item.report == report
    data, _ = cybertip.write(ParsedReport(source="NCMEC", external_id="6", format="cybertip-xml"))
    (item,) = list(read_file("looks-like.json", data))
    assert isinstance(item, Parsed) and item.report.format == "cybertip-xml"


def test_utf16_json_is_refused_by_the_json_reader_with_a_clear_reason():
    (err,) = list(read_file("in.json", JSON.decode().encode("utf-16")))
    assert isinstance(err, IntakeError) and "must be UTF-8" in err.reason
