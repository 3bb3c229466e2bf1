"""The Dutch catalogue against the source: every message the code can show has a Dutch text with
the same placeholders, nothing in the catalogue is left over, and the compiled .mo is the .po.

A failure here is fixed with `make messages` and then translating what it left empty or fuzzy in
src/tiptriage/locale/nl/LC_MESSAGES/tiptriage.po (README, "User text and translations")."""

from __future__ import annotations

import io
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tiptriage.catalogue import LOCALE_DIR, extract_python, source_messages

PO = LOCALE_DIR / "nl" / "LC_MESSAGES" / "tiptriage.po"
MO = PO.with_suffix(".mo")


@pytest.fixture(scope="module")
def source():
    return source_messages()


@pytest.fixture(scope="module")
def catalogue():
    with open(PO, "rb") as f:
        return read_po(f)


def placeholders(text: str) -> set[tuple[str, str | None, str | None]]:
    return {(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None}


def test_every_message_of_the_source_has_a_dutch_text(source, catalogue):
    entries = {key: catalogue.get(*key) for key in source}
    missing = {key: source[key] for key, entry in entries.items() if entry is None or not entry.string}
    fuzzy = [key for key, entry in entries.items() if entry is not None and entry.fuzzy]
    assert missing == {} and fuzzy == []


def test_dutch_texts_keep_the_placeholders(catalogue):
    differ = [(m.id, m.string) for m in catalogue if m.id and placeholders(m.id) != placeholders(m.string)]
    assert differ == []


def test_no_message_is_left_over_in_the_catalogue(source, catalogue):
    """An id the code no longer uses (`make messages` keeps it as obsolete, #~) is deleted by hand,
    once someone has seen that its text is not needed elsewhere."""
    assert sorted(m.id for m in catalogue if m.id and (m.id, m.context) not in source) == []
    assert list(catalogue.obsolete) == []


def test_the_template_is_up_to_date(source):
    with open(LOCALE_DIR / "tiptriage.pot", "rb") as f:
        template = read_po(f)
    assert sorted((m.id, m.context or "") for m in template if m.id) == sorted((i, c or "") for i, c in source)


def test_the_compiled_catalogue_is_the_po(catalogue):
    """The .mo is committed (so a clone and a wheel need no build step); it must say what the .po says."""
    with open(MO, "rb") as f:
        compiled = read_mo(f)
    expected = {(m.id, m.context): m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    assert {(m.id, m.context): m.string for m in compiled if m.id} == expected


def test_the_catalogues_are_packaged():
    from pathlib import Path
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["tiptriage"]
    root = LOCALE_DIR.parent
    packaged = {p for pattern in patterns for p in root.glob(pattern)}
    assert {PO, MO, LOCALE_DIR / "tiptriage.pot"} <= packaged


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
# Python 3.11 allows neither a backslash nor the f-string's own quote inside its braces.
plain_texts = texts.filter(lambda t: "\\" not in repr(t) and '"' not in t and "'" not in t)


@given(texts, plain_texts)
def test_the_extractor_finds_each_literal_message_where_it_is_written(plain, nested):
    """Calls of `_`, `refusal` (its second argument) and `N_`, also inside an f-string, whatever the
    text; a call with a computed message yields nothing to extract."""
    source = "\n".join([
        f"a = _({plain!r}, n=1)",
        f'b = f"{{_({nested!r})}} and {{x}}"',
        f"raise refusal(LookupError, {plain!r}, id=3)",
        f"c = N_({nested!r})",
        "d = _(computed)",
    ])
    found = [(line, name, args) for line, name, args, _ in extract_python(io.BytesIO(source.encode()),
                                                                            ["_", "refusal", "N_"], [], {})]
    assert sorted(found, key=lambda f: f[0]) == [(1, "_", (plain,)), (2, "_", (nested,)), (3, "refusal", (None, plain)), (4, "N_", (nested,)),
                     (5, "_", (None,))]
