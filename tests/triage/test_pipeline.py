"""The ingest path as the CLI runs it: reports whose subjects a join changed are triaged again."""

from __future__ import annotations

import json
from dataclasses import replace

from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.db import open_session
from tiptriage.intake.domain import Identifier
from tiptriage.intake.formats import cybertip
from tiptriage.triage.models import Recommendation

from .dbdata import ids_of, known, person, report

runner = CliRunner()


def _ingest(folder, parsed) -> dict:
    folder.mkdir(parents=True)
    data, _ = cybertip.write(parsed, inline_files=True)
    (folder / f"{parsed.external_id}.xml").write_bytes(data)
    result = runner.invoke(app, ["ingest", str(folder), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_report_that_joins_two_subjects_gets_their_earlier_reports_triaged_again(cli_env, tmp_path):
    kees = replace(person(given="Kees", family="Mulder", email=None, dob=None, postcode=None),
                   ip_events=())
    first = replace(kees, identifiers=(Identifier("email", "kees.m@example.nl", True, None),
                                       Identifier("esp_user_id", "111", None, "Platform A")))
    second = replace(kees, identifiers=(Identifier("esp_user_id", "222", None, "Platform B"),))
    bridge = replace(kees, given_name=None, family_name=None,
                     identifiers=(Identifier("email", "kees.m@example.nl", True, None),
                                  Identifier("esp_user_id", "222", None, "Platform B")))
    assert _ingest(tmp_path / "1", report("130000001", known(0), who=first))["retriaged"] == 0
    assert _ingest(tmp_path / "2", report("130000002", known(1), who=second))["retriaged"] == 0
    summary = _ingest(tmp_path / "3", report("130000003", known(2), who=bridge))
    assert summary["retriaged"] == 2
    with open_session() as s:
        earlier = ids_of(s, "130000001", "130000002")
        triggers = {r.report_id: r.trigger for r in s.query(Recommendation).filter(Recommendation.report_id.in_(earlier))
                    if r.seq > 1}
    assert triggers == dict.fromkeys(earlier, "subject")
