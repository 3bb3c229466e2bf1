"""`tiptriage synth` as a user runs it: options reach the data set, an existing set is refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tiptriage.cli import app

runner = CliRunner()


def test_synth_writes_a_data_set_with_the_shares_asked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    out = tmp_path / "set"
    result = runner.invoke(app, ["synth", str(out), "--reports", "40", "--seed", "3", "--juveniles", "0.5",
                                 "--new-material", "0.25", "--workers", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Synthetic data set" in result.stdout and "Wrote 40 reports" in result.stdout
    truth = json.loads((out / "truth.json").read_text())
    assert truth["generator"]["options"]["juveniles"] == 0.5
    assert sum(r["facts"]["new_material"] for r in truth["reports"]) == 10


def test_synth_refuses_a_folder_that_holds_a_data_set_and_bad_shares(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    out = tmp_path / "set"
    assert runner.invoke(app, ["synth", str(out), "--reports", "5", "--workers", "1"]).exit_code == 0
    again = runner.invoke(app, ["synth", str(out), "--reports", "5", "--workers", "1"])
    assert again.exit_code == 2 and "already holds a data set" in " ".join(again.output.split())
    assert runner.invoke(app, ["synth", str(tmp_path / "x"), "--abroad", "1.5"]).exit_code == 2


def test_synth_writes_the_extension_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPTRIAGE_LANG", "en")
    for flag, expected in (([], False), (["--extensions"], True)):
        out = tmp_path / f"set{len(flag)}"
        result = runner.invoke(app, ["synth", str(out), "--reports", "30", "--seed", "4", "--workers", "1",
                                     "--undetermined", "0.2", "--escalated", "0.1", *flag], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        truth = json.loads((out / "truth.json").read_text())
        assert truth["generator"]["extensions"] is expected
        assert truth["generator"]["options"]["undetermined"] == 0.2
        actions = any(b"<action>" in p.read_bytes() for p in (out / "reports").glob("NCMEC-*.xml"))
        assert actions is expected
        assert sum(r["facts"]["escalated"] for r in truth["reports"]) == 3
