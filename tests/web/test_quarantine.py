"""The quarantine on the ingest screen: refused input with file, record, field and reason, newest
first, a page at a time; its reasons may quote a refused value (a date of birth here), so every
reading — the screen's and `tiptriage reports quarantine`'s — is on record as a consultation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from triage.dbdata import known, person, report
from typer.testing import CliRunner

from tiptriage import config
from tiptriage.audit.models import AuditEvent
from tiptriage.cli import app
from tiptriage.db import open_session
from tiptriage.intake.formats import cybertip
from web.conftest import csrf_of, login


def _refused_xml(n: int) -> bytes:
    """A CyberTipline report whose date of birth is written the Dutch way: refused, the value quoted."""
    data = cybertip.write(report(f"q-{n}", known(1), who=person("Kees", "Klaassen", email=f"k{n}@example.org",
                                                                 dob=date(1980, 5, 17))), inline_files=True)[0]
    assert b"1980-05-17" in data
    return data.replace(b"1980-05-17", b"17-05-1980")


def _views() -> list[AuditEvent]:
    with open_session() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "quarantine.view")
                              .order_by(AuditEvent.seq)).scalars())


def test_the_ingest_screen_lists_the_quarantine_newest_first_and_puts_the_reading_on_record(client, store):
    login(client, "ida")
    for n in range(3):
        answer = client.post("/ingest", data={"csrf": csrf_of(client)},
                             files={"files": (f"melding-{n}.xml", _refused_xml(n), "application/xml")})
        assert answer.status_code == 200
    page = client.get("/ingest")
    section = page.text.split('class="quarantine"')[1]
    assert "Quarantaine" in page.text and "17-05-1980" in section
    assert section.index("melding-2.xml") < section.index("melding-1.xml") < section.index("melding-0.xml")
    views = _views()
    assert views[-1].actor == "ida" and views[-1].reason == "web" and len(views[-1].entity_ids) == 3
    assert "Ouder" not in section  # one page holds them all


def test_the_quarantine_pages_and_stays_out_of_sight_of_roles_that_do_not_ingest(client, store):
    from tiptriage.web import pages

    login(client, "ida")
    for n in range(pages.QUARANTINE_PAGE + 2):
        client.post("/ingest", data={"csrf": csrf_of(client)}, files={"files": (f"m{n}.xml", _refused_xml(n))})
    first, second = client.get("/ingest"), client.get("/ingest", params={"page": 2})
    assert 'href="/ingest?page=2"' in first.text and 'href="/ingest?page=1"' in second.text
    assert second.text.split('class="quarantine"')[1].count("<tr><td>") == 2
    login(client, "cor")
    before = len(_views())
    assert client.get("/ingest").status_code == 403 and len(_views()) == before


def test_the_cli_reads_the_quarantine_through_the_same_audited_service(client, store, monkeypatch):
    login(client, "ida")
    client.post("/ingest", data={"csrf": csrf_of(client)}, files={"files": ("melding.xml", _refused_xml(0))})
    monkeypatch.setenv("TIPTRIAGE_ACTOR", "beheer")
    config.get_settings.cache_clear()
    result = CliRunner().invoke(app, ["reports", "quarantine", "--json", "--reason", "fout zoeken"])
    assert result.exit_code == 0 and "17-05-1980" in result.stdout
    assert (_views()[-1].actor, _views()[-1].reason) == ("beheer", "fout zoeken")
