"""The value checks every format shares: they normalise once and for all, and fail only with ValueError.

A ValueError becomes an IntakeError naming the field; anything else would escape as a crash of
the whole file, so "only ValueError on any text" is the property that keeps intake standing.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tiptriage import hashtypes
from tiptriage.intake import values as v

from .strategies import hex_digest, ip_addresses

SETTINGS = settings(max_examples=150, deadline=None)
SINGLE = [v.text, v.timestamp, v.birth_date, v.age, v.boolean, v.classification, v.action, v.ip_event,
          v.identifier_kind, v.role, v.port, v.ip_address]


def _outcome(convert, value):
    try:
        return ("ok", convert(value))
    except ValueError as exc:
        return ("refused", str(exc))


@pytest.mark.parametrize("convert", SINGLE, ids=lambda f: f.__name__)
@SETTINGS
@given(value=st.text())
@example(value="0001-01-01T00:00:00+01:00")
@example(value="9999-12-31T23:59:59-01:00")
@example(value="\ud800")
@example(value="1" * 5000)
def test_any_text_is_converted_or_refused_with_a_value_error(convert, value):
    kind, result = _outcome(convert, value)  # anything but ValueError fails the test
    if kind == "refused":
        assert len(result) < 300, "a reason names the problem, it does not repeat a long value"


@pytest.mark.parametrize("convert", [v.text, v.classification, v.action, v.ip_event, v.identifier_kind, v.role,
                                     v.boolean, v.ip_address], ids=lambda f: f.__name__)
@SETTINGS
@given(value=st.text())
def test_text_normalisers_are_idempotent(convert, value):
    kind, once = _outcome(convert, value)
    if kind == "ok" and isinstance(once, str):
        assert convert(once) == once


@SETTINGS
@given(value=st.text())
def test_text_is_trimmed_storable_and_bounded(value):
    kind, result = _outcome(v.text, value)
    if kind == "ok" and result is not None:
        assert result == result.strip() and 0 < len(result) <= v.MAX_TEXT
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", result)
        result.encode("utf-8")  # storable in either database


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "\ud800", "x\udfffy", "\ufffe", "\uffff"])
def test_text_refuses_what_no_store_or_xml_can_carry(bad):
    with pytest.raises(ValueError, match="control characters|not valid Unicode"):
        v.text(bad)


def test_text_refuses_more_than_its_limit_and_keeps_the_limit():
    assert v.text("x" * v.MAX_TEXT) == "x" * v.MAX_TEXT
    with pytest.raises(ValueError, match="longer than"):
        v.text("x" * (v.MAX_TEXT + 1))
    with pytest.raises(ValueError, match="longer than 200"):
        v.text("x" * 201, limit=v.MAX_ID)


_OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))


@SETTINGS
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.one_of(st.none(), _OFFSETS.map(timezone))),
       sep=st.sampled_from(["T", " "]))
def test_timestamps_are_utc_aware_idempotent_and_within_range(moment, sep):
    kind, parsed = _outcome(v.timestamp, moment.isoformat(sep))
    if kind == "refused":
        assert "out of range" in parsed
        as_utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        assert as_utc < v.EARLIEST or as_utc > datetime.now(UTC) + timedelta(days=1)
        return
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)
    assert parsed == (moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    assert v.timestamp(parsed.isoformat()) == parsed
    assert v.timestamp(parsed.isoformat().replace("+00:00", "Z")) == parsed


@pytest.mark.parametrize("bad", ["2023-02-30T10:00:00Z", "1850-01-01T00:00:00Z", "2999-01-01T00:00:00Z",
                                 "0001-01-01T00:00:00+01:00", "yesterday", "2023-13-01"])
def test_impossible_timestamps_are_refused(bad):
    with pytest.raises(ValueError):
        v.timestamp(bad)


@pytest.mark.parametrize("bad", ["2023-02-30", "1850-06-01", "2999-01-01", "01-02-2003"])
def test_impossible_birth_dates_are_refused(bad):
    with pytest.raises(ValueError):
        v.birth_date(bad)


@SETTINGS
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date.today()))
def test_birth_dates_round_trip_through_iso(day):
    assert v.birth_date(day.isoformat()) == day
    assert v.birth_date(v.birth_date(day.isoformat()).isoformat()) == day


@pytest.mark.parametrize("convert, good, high", [(v.age, 120, 121), (v.port, 65535, 65536)],
                         ids=["age", "port"])
def test_whole_numbers_take_digits_and_refuse_what_int_would_bend(convert, good, high):
    assert convert(str(good)) == good and convert(f" {good} ") == good and convert(good) == good
    assert convert("") is None and convert(None) is None
    for bent in ("1_0", "\u0661\u0662", "12.0", "0x10", True, 5.5):  # int() takes the first three
        with pytest.raises(ValueError):
            convert(bent)
    for out_of_range in (str(high), "-1"):
        with pytest.raises(ValueError):
            convert(out_of_range)


@SETTINGS
@given(hash_type=st.sampled_from(hashtypes.NAMES), value=st.text())
def test_hash_value_accepts_exactly_hex_of_the_right_length(hash_type, value):
    digits = value.strip()
    expected = len(digits) == hashtypes.get(hash_type).hex_digits and re.fullmatch(r"[0-9a-fA-F]+", digits) is not None
    kind, result = _outcome(lambda x: v.hash_value(hash_type, x), value)
    assert (kind == "ok") == expected
    if expected:
        assert result == (hash_type, digits.lower())


@SETTINGS
@given(data=st.data(), hash_type=st.sampled_from(hashtypes.NAMES))
def test_hash_value_takes_any_case_and_spelling_of_type_and_value(data, hash_type):
    digest = data.draw(hex_digest(hash_type))
    mask = data.draw(st.integers(0, 2 ** len(digest) - 1))
    mixed = "".join(c.upper() if mask >> i & 1 else c for i, c in enumerate(digest))
    spelled = {"md5": "MD5", "sha1": "SHA-1", "sha256": "Sha_256", "pdq": "pdq"}[hash_type]
    assert v.hash_value(spelled, f" {mixed}\n") == (hash_type, digest)
    assert v.hash_value(*v.hash_value(spelled, mixed)) == (hash_type, digest)


@pytest.mark.parametrize("hash_type, value, reason", [
    ("md5", "0" * 31, "expected 32 hex digits"),
    ("md5", "0" * 33, "expected 32 hex digits"),
    ("sha1", "g" * 40, "expected 40 hex digits"),
    ("sha256", "0" * 63 + "\u0660", "expected 64 hex digits"),
    ("crc32", "0" * 8, "unknown hash type"),
    ("X" * 100_000, "0" * 32, "unknown hash type"),
])
def test_invalid_hashes_are_refused_with_a_short_reason(hash_type, value, reason):
    with pytest.raises(ValueError, match=reason) as info:
        v.hash_value(hash_type, value)
    assert len(str(info.value)) < 300


@SETTINGS
@given(ip=ip_addresses())
def test_ip_addresses_are_canonical_and_idempotent(ip):
    assert v.ip_address(ip) == ip
    assert v.ip_address(ip.upper()) == ip


@pytest.mark.parametrize("raw, expected", [("true", True), (" YES ", True), ("0", False), ("unknown", None),
                                           ("", None), (False, False)])
def test_booleans_in_the_spellings_reports_use(raw, expected):
    assert v.boolean(raw) is expected


def test_booleans_refuse_anything_else():
    for bad in ("maybe", 1, 0.0):
        with pytest.raises(ValueError):
            v.boolean(bad)
