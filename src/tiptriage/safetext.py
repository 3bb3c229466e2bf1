"""Text received from outside, made safe where it is shown or exported — never where it is kept.

A report's names and identifiers are evidence: they are stored as received (the raw document
byte for byte). Shown on a terminal, a right-to-left override (U+202E) would reverse what follows
it ("gpj.exe" reads as "exe.jpg"), other bidi controls reorder text, and a CR or LF breaks a
table's line or overwrites it; such characters are shown as a visible code (⟨U+202E⟩, ⟨LF⟩).
In a CSV file a value a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) gets a leading ' so it is shown as text.
"""

from __future__ import annotations

import re

# Bidi embeddings, overrides and isolates, the implicit marks, and the Arabic letter mark.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_NAMES = {"\n": "LF", "\r": "CR", "\t": "TAB"}
# Controls (C0, DEL, C1), line and paragraph separators, bidi controls, zero-width characters.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200d\u2060\ufeff{BIDI_CONTROLS}]")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def shown(value: object) -> str:
    """`value` as text fit to print: each unsafe character as a visible code, the rest as it is."""
    text = "" if value is None else str(value)
    if text.isascii() and text.isprintable():  # most values: nothing to do
        return text
    return _UNSAFE.sub(lambda m: f"⟨{_NAMES.get(m.group(), f'U+{ord(m.group()):04X}')}⟩", text)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def latin_lookalikes(text: str) -> str | None:
    """`text` with look-alike letters of another script read as the Latin ones they imitate
    ("BКA" with a Cyrillic К is "BKA"), or None when it mixes no scripts that way.

    Only text that mixes scripts, and whose every letter of the other script imitates an ASCII
    one, is read so (a name wholly in Cyrillic, or "Ivan Иванов", is not a disguise): the test and the table of look-alikes are Unicode's confusables, through
    confusable_homoglyphs. Full-width letters are folded first (NFKC), as user ids are.
    """
    import unicodedata

    from confusable_homoglyphs import confusables

    if text.isascii():
        return None
    folded = unicodedata.normalize("NFKC", text)
    if not confusables.is_mixed_script(folded):
        return None if folded == text else (folded if folded.isascii() else None)
    found = confusables.is_confusable(folded, greedy=True, preferred_aliases=["latin"]) or []
    latin = {}
    for hit in found:
        if hit["alias"] in ("LATIN", "COMMON"):  # digits and punctuation stay as they are
            continue
        glyph = next((h["c"] for h in hit["homoglyphs"] if h["n"].startswith("LATIN ") and h["c"].isascii()), None)
        if glyph is None:  # a letter that imitates none: text in two scripts, not a disguise
            return None
        latin[hit["character"]] = glyph
    read = "".join(latin.get(c, c) for c in folded)
    return read if read != text and read.isascii() else None
