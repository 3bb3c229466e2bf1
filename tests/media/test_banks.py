import pytest

from hypothesis import given
from hypothesis import strategies as st

from tiptriage.media.banks import (
    BankFormatError, BankRecord, ImportSettings, Problem, default_settings, detect_format, grouped, merge, parse,
)

from tiptriage.i18n import language

from . import bankfiles


@pytest.mark.parametrize("version", ["1.3", "2.0"])
def test_vics_both_shapes_give_md5_sha1_and_pdq_with_our_categories(version):
    p = bankfiles.pdq()
    data = bankfiles.vics([{"Category": 1, "Series": "Blue bear", "VictimIdentified": True, "pdq": p},
                           {"Category": 2}, {"Category": 3}, {"Category": 0}], version=version)
    records = parse(data, default_settings("vics"))
    by_type = {}
    for r in records:
        by_type.setdefault(r.hash_type, []).append(r)
    assert len(by_type["md5"]) == len(by_type["sha1"]) == 4
    assert [r.value for r in by_type["pdq"]] == [p]  # PhotoDNA is skipped, not refused
    first = by_type["pdq"][0]
    assert (first.category, first.series, first.victim_identified, first.source_category, first.ref) == (
        "child_abuse", "Blue bear", True, "1", "1")
    assert sorted(r.category for r in by_type["md5"]) == ["cgi_animation", "child_abuse", "exploitive",
                                                          "non_pertinent"]
    assert all(r.value == r.value.lower() for r in records)


def test_a_bank_maps_its_own_scheme():
    data = bankfiles.vics([{"Category": 1}, {"Category": 2}])
    settings = ImportSettings("vics", {"1": "exploitive", "2": "ignore"})
    assert [r.category for r in parse(data, settings)] == ["exploitive", "exploitive"]  # md5 and sha1 of #1


def test_csv_and_lines():
    m, s, p = bankfiles.md5(), bankfiles.sha1(), bankfiles.pdq()
    records = parse(bankfiles.csv([("md5", m, "child_abuse", "S1", "true"), ("sha1", s, "exploitive", "", ""),
                                   ("pdq", p, "cgi_animation", "", "")]), default_settings("csv"))
    assert {(r.hash_type, r.category, r.series, r.victim_identified) for r in records} == {
        ("md5", "child_abuse", "S1", True), ("sha1", "exploitive", None, None), ("pdq", "cgi_animation", None, None)}
    listed = parse(bankfiles.lines([m.upper(), s]), default_settings("lines"))
    assert {(r.hash_type, r.value, r.category) for r in listed} == {("md5", m, "child_abuse"), ("sha1", s, "child_abuse")}
    sha256 = parse(bankfiles.lines([p]), ImportSettings("lines", default_category="exploitive", hash_type="sha256"))
    assert [(r.hash_type, r.category) for r in sha256] == [("sha256", "exploitive")]


def test_format_detection():
    assert detect_format("x.json", b'  {"value": []}') == "vics"
    assert detect_format("x.CSV", b"hash_type,hash\n") == "csv"
    assert detect_format("x.txt", b"abc\n") == "lines"


def problems(data: bytes, settings: ImportSettings) -> list[str]:
    with pytest.raises(BankFormatError) as info:
        parse(data, settings)
    return [str(p) for p in info.value.problems]


def test_malformed_files_are_refused_with_line_or_record_numbers():
    assert problems(b'{"value": [\n{"MD5": "x"},\n', default_settings("vics"))[0].startswith("line 3")
    bad_vics = bankfiles.vics([{"Category": 1}, {"Category": 1, "MD5": "nothex"}, {"Category": 9}])
    found = problems(bad_vics, default_settings("vics"))
    assert found[0].startswith("record 2, field MD5: invalid md5 hash")
    assert found[1].startswith("record 3: category '9' has no mapping")
    bad_csv = bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", ""), ("md5", "123", "child_abuse", ""),
                             ("sha9", bankfiles.md5(), "child_abuse", "")])
    assert problems(bad_csv, default_settings("csv")) == [
        "line 3, field hash: invalid md5 hash '123': expected 32 hex digits",
        "line 4, field hash_type: unknown hash type 'sha9' (expected one of md5, sha1, sha256, pdq)"]
    assert problems(b"id,value\n1,2\n", default_settings("csv"))[0].startswith("line 1: header lacks")
    listed = problems(bankfiles.lines([bankfiles.md5(), "zz", bankfiles.pdq()]), default_settings("lines"))
    assert listed[0].startswith("line 4: not an MD5 or SHA-1") and listed[1].startswith("line 5: 64 hex digits")
    assert problems(b'{"no": "odata"}', default_settings("vics"))[0].startswith("not a VICS document")
    assert problems(b"\xff\xfe", default_settings("lines"))[0] == "line 1: not UTF-8 text"


def test_one_problem_in_many_rows_is_told_once_with_how_many_more_and_in_dutch():
    rows = [("md5", bankfiles.md5(), "X9", "") for _ in range(500)] + [("md5", "123", "child_abuse", "")]
    with pytest.raises(BankFormatError) as info:
        parse(bankfiles.csv(rows), default_settings("csv"))
    unmapped, broken = info.value.problems
    assert (unmapped.line, unmapped.field, unmapped.more, broken.line) == (2, "category", 499, 502)
    assert str(unmapped).startswith("line 2, field category: category 'X9' has no mapping") and "499 more" in str(unmapped)
    with language("nl"):
        assert "'X9'" in unmapped.said() and "toewijzing" in unmapped.said() and "499" in unmapped.said()
        assert "ongeldige md5-hash" in broken.said()


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([None, "hash", "category"]),
                          st.integers(1, 50)), max_size=40))
def test_grouped_problems_keep_every_place_counted_and_the_first_place_shown(found):
    problems = [Problem(reason, line=line, field=name) for reason, name, line in found]
    told = grouped(problems)
    assert sum(1 + p.more for p in told) == len(problems)
    assert len({(p.reason, p.field) for p in told}) == len(told)
    assert [p.line for p in told] == [next(q.line for q in problems if (q.reason, q.field) == (p.reason, p.field))
                                      for p in told]


def test_one_hash_twice_keeps_the_more_severe_category():
    a = BankRecord("pdq", "ab" * 32, "exploitive", series="S")
    b = BankRecord("pdq", "ab" * 32, "child_abuse", victim_identified=True)
    assert merge([a, b]) == [BankRecord("pdq", "ab" * 32, "child_abuse", series="S", victim_identified=True)]


def test_settings_refuse_unknown_categories():
    with pytest.raises(ValueError):
        ImportSettings("csv", {"1": "very_bad"})
