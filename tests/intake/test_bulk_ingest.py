"""At scale: 1,000 generated reports mixed with hostile and broken files, through the parallel reader."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.intake.models import QuarantineEntry, Report
from tiptriage.synth.generator import generate

BAD = {
    "zz-xxe.xml": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                  b"<report><reportId>&x;</reportId></report>",
    "zz-laughs.xml": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                     b"<report><reportId>&c;</reportId></report>",
    "zz-truncated.xml": b"<report><reportId>1</reportId><incidentSummary>",
    "zz-utf8.json": b'{"format_version": 1, "source": "S", "external_id": "\xff\xfe"}',
    "zz-date.json": b'{"format_version": 1, "source": "S", "external_id": "X-1", "incident_at": "2023-02-30T10:00:00Z"}',
    "zz-hash.csv": b"source,report_id,md5\nHotline,H-1,abc\n",
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "set"
    generate(out, reports=1000, seed=3)
    return out / "reports"


@pytest.mark.slow
def test_a_thousand_good_reports_among_hostile_files(session, tmp_path, synthetic, monkeypatch):
    folder = tmp_path / "in"
    shutil.copytree(synthetic, folder)
    for name, data in BAD.items():
        (folder / name).write_bytes(data)
    monkeypatch.setenv("TIPTRIAGE_INGEST_WORKERS", "2")  # the parallel reader, whatever the machine
    summary = pipeline.ingest(session, [folder], actor=Actor("t"))
    assert (summary.stored, summary.rejected) == (1000, len(BAD)), summary.errors[:3]
    assert {e["file"].rsplit("/", 1)[1] for e in summary.errors} == set(BAD)
    assert session.execute(select(func.count()).select_from(Report)).scalar_one() == 1000
    reasons = {q.path.rsplit("/", 1)[1]: q.reason for q in session.execute(select(QuarantineEntry)).scalars()}
    assert "DTD" in reasons["zz-xxe.xml"] and "DTD" in reasons["zz-laughs.xml"]
    assert "root:" not in " ".join(reasons.values())  # nothing of /etc/passwd got in
    again = pipeline.ingest(session, [synthetic], actor=Actor("t"))
    assert (again.stored, again.duplicates) == (0, 1000)
