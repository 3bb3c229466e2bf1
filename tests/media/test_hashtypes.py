"""The hash-type registry: each type declared once, and every consumer — intake's value checks, the
three bank formats, `tiptriage match`, matching — reading a type and its values the same way."""

from __future__ import annotations

import csv
import io
import json
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiptriage import hashtypes
from tiptriage.accounts.actor import Actor
from tiptriage.config import get_settings
from tiptriage.intake import values
from tiptriage.media import lookup, service
from tiptriage.media.banks import BankFormatError, ImportSettings, default_settings, parse
from tiptriage.media.index import MultiIndex, hex_to_rows

from .dbdata import add_report

KINDS = pytest.mark.parametrize("kind", hashtypes.ALL, ids=hashtypes.NAMES)


def value_of(kind: hashtypes.HashType) -> str:
    return secrets.token_hex(kind.bits // 8)


def flipped(value: str, bits: int) -> str:
    """The value with its lowest `bits` bits flipped."""
    return f"{int(value, 16) ^ ((1 << bits) - 1):0{len(value)}x}"


def bank_csv(hash_type: str, value: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([("hash_type", "hash", "category"), (hash_type, value, "child_abuse")])
    return out.getvalue().encode()


def bank_vics(name: str, value: str, *, as_field: bool) -> bytes:
    """A VICS export of one media record carrying the hash as a field of its own (MD5, SHA1,
    SHA256) or among its alternative hashes."""
    item = {"MediaID": 1, "Category": 1, "AlternativeHashes": []}
    if as_field:
        item[name] = value
    else:
        item["AlternativeHashes"].append({"HashName": name, "HashValue": value})
    return json.dumps({"@odata.context": "https://example.org/$metadata#Media", "value": [item]}).encode()


def bank_lines(value: str) -> bytes:
    return f"# one hash a line\n{value}\n".encode()


def test_each_type_is_found_by_every_name_sources_give_it():
    assert len(set(hashtypes.NAMES)) == len(hashtypes.ALL)
    for kind in hashtypes.ALL:
        for name in (kind.name, kind.title, *kind.aliases):
            assert {hashtypes.named(n) for n in (name, name.upper(), name.lower(), f" {name}\t")} == {kind}
    assert hashtypes.named("PhotoDNA") is None and hashtypes.named(None) is None
    with pytest.raises(ValueError, match="unknown hash type 'crc32'"):
        hashtypes.get("crc32")


def test_a_distance_type_takes_its_threshold_from_the_settings():
    current = get_settings()
    for kind in hashtypes.ALL:
        assert kind.max_distance(current) == (0 if kind.exact else getattr(current, kind.threshold_setting))
    assert hashtypes.PDQ.max_distance(current) == current.pdq_max_distance


@KINDS
def test_every_type_imports_through_every_bank_format(kind):
    value = value_of(kind)
    files = [(bank_csv(kind.title, value.upper()), default_settings("csv")),
             (bank_vics(kind.title, value.upper(), as_field=False), default_settings("vics")),
             (bank_lines(value.upper()), ImportSettings("lines", default_category="child_abuse", hash_type=kind.name))]
    if kind.exact:  # VICS names the exact types' fields by the type in capitals
        files.append((bank_vics(kind.name.upper(), value, as_field=True), default_settings("vics")))
    if len(hashtypes.of_length(kind.hex_digits)) == 1:  # a list without --hash-type: typed by length
        files.append((bank_lines(value), default_settings("lines")))
    for data, how in files:
        assert [(r.hash_type, r.value) for r in parse(data, how)] == [(kind.name, value)], how.format


@KINDS
def test_every_type_matches_a_stored_file_as_its_declaration_says(session, tmp_path, kind):
    value = value_of(kind)
    threshold = kind.max_distance(get_settings())
    (tmp_path / "bank.csv").write_bytes(bank_csv(kind.name, value))
    service.import_bank(session, tmp_path / "bank.csv", name="b", actor=Actor("t"))
    close, beyond = flipped(value, threshold), flipped(value, threshold + 1)
    report, (equal, near, far) = add_report(session, [{"hashes": {kind.name: v}} for v in (value, close, beyond)])
    service.match_reports(session, [report], actor=Actor("t"))
    found = service.file_status(session, [equal, near, far])
    assert [found[f]["status"] for f in (equal, near, far)] == ["known", "known", "unrated"]
    assert [(m["hash_type"], m["distance"]) for m in found[near]["matches"]] == [(kind.name, threshold)]
    assert kind.matches(value, close, threshold) and not kind.matches(value, beyond, threshold)


@settings(max_examples=200, deadline=None)
@given(a=st.binary(min_size=32, max_size=32), flips=st.sets(st.integers(0, 255), max_size=40))
def test_the_pdq_index_finds_exactly_what_the_registry_calls_a_match(a, flips):
    one, other = a.hex(), f"{int(a.hex(), 16) ^ sum(1 << bit for bit in flips):064x}"
    hits = MultiIndex.build(hex_to_rows([one])).search(hex_to_rows([other]), 31)
    assert hashtypes.PDQ.distance(one, other) == len(flips)
    assert (len(hits) == 1) == hashtypes.PDQ.matches(one, other, 31)
    assert list(hits.distance) == ([len(flips)] if len(hits) else [])


# --- one value, every consumer -------------------------------------------------------------------

def _outcome(read) -> tuple:
    """("ok", the value as stored) or ("refused",): consumers word their refusals differently."""
    try:
        return "ok", read()
    except (ValueError, BankFormatError):
        return ("refused",)


def _from_bank(data: bytes, how: ImportSettings) -> str:
    (record,) = parse(data, how)
    return record.value


def _from_match(text: str) -> str:
    q = lookup.parse_input(text, min_quality=0)
    if q.error:
        raise ValueError(q.error)
    return q.pdq if q.pdq is not None else q.exact[0][1]


def _consumers(kind: hashtypes.HashType, text: str) -> dict:
    read = {
        "registry": lambda: kind.normalise(text),
        "intake": lambda: values.hash_value(kind.title, text)[1],
        "bank csv": lambda: _from_bank(bank_csv(kind.name, text), default_settings("csv")),
        "bank vics": lambda: _from_bank(bank_vics(kind.title, text, as_field=False), default_settings("vics")),
        "match": lambda: _from_match(f"{kind.name}:{text}"),
    }
    if text.strip() and not text.strip().startswith("#"):  # a list skips blank and comment lines
        how = ImportSettings("lines", default_category="child_abuse", hash_type=kind.name)
        read["bank lines"] = lambda: _from_bank(bank_lines(text), how)
    return {name: _outcome(f) for name, f in read.items()}


@st.composite
def hash_texts(draw, kind: hashtypes.HashType) -> str:
    """Mostly a value of the type in any case with white space around it, sometimes one digit too
    few or too many, a letter that is not hex or another script's digit."""
    digits = draw(st.binary(min_size=kind.bits // 8, max_size=kind.bits // 8)).hex()
    digits = "".join(c.upper() if draw(st.booleans()) else c for c in digits)
    bent = draw(st.sampled_from(["", "", "", "drop", "add", "g", "\u0660", "space"]))
    if bent == "drop":
        digits = digits[1:]
    elif bent == "add":
        digits += "0"
    elif bent == "space":
        digits = digits[:5] + " " + digits[5:]
    elif bent:
        digits = bent + digits[1:]
    return draw(st.sampled_from(["", " ", "\t"])) + digits + draw(st.sampled_from(["", " ", "  "]))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(hashtypes.ALL))
def test_a_hash_reads_the_same_through_every_consumer(data, kind):
    text = data.draw(st.one_of(hash_texts(kind), st.text(alphabet="0123456789abcdefABCDEFxyz \t", max_size=70)))
    outcomes = _consumers(kind, text)
    assert len(set(outcomes.values())) == 1, outcomes
