"""The Dutch text table: every key once, and the words linkage evidence is shown in."""

from __future__ import annotations

import ast
import inspect
from collections import Counter

from tiptriage import i18n
from tiptriage.subjects import linkage


def test_no_text_is_translated_twice():
    """A key given twice in the table silently keeps only the last translation."""
    tree = ast.parse(inspect.getsource(i18n))
    tables = [node for node in ast.walk(tree) if isinstance(node, ast.Dict) and len(node.keys) > 20]
    assert tables
    for table in tables:
        keys = Counter(k.value for k in table.keys if isinstance(k, ast.Constant))
        assert [k for k, n in keys.items() if n > 1] == []


def test_linkage_evidence_reads_in_dutch(monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "nl")
    words = {f.name for f in linkage.FIELDS} | {level.label for f in linkage.FIELDS for level in f.levels}
    words |= {"given_name_conflict", "birth_conflict", "uncorroborated", "household_only"}
    assert sorted(w for w in words if w not in i18n.NL) == []
    assert i18n._("household_only") == "alleen wat een huishouden deelt"
