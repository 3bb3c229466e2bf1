"""`tiptriage bank`, `hash`, `match`, `media` as a user scripts them: JSON shapes and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tiptriage.cli import app
from tiptriage.media.hashing import pdq_of_image

from . import bankfiles, images

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_hash_prints_exact_hashes_pdq_quality_and_dihedral_set(tmp_path):
    images.gradient().save(tmp_path / "g.png")
    (tmp_path / "t.txt").write_text("text")
    result = run("hash", str(tmp_path), "--json")
    assert result.exit_code == 0
    image, other = json.loads(result.stdout)
    assert image["kind"] == "image" and image["quality"] >= 50 and len(image["dihedral"]) == 8
    assert image["dihedral"]["original"] == image["pdq"] and len(image["sha256"]) == 64
    assert other["kind"] == "other" and "pdq" not in other
    assert run("hash", str(tmp_path / "missing.png")).exit_code == 1


def test_bank_import_then_match_files_and_hashes(cli_env, tmp_path):
    original = images.noise()
    bank = tmp_path / "bank.json"
    bank.write_bytes(bankfiles.vics([{"Category": 1, "Series": "Clouds", "pdq": pdq_of_image(original).hash}]))
    imported = run("bank", "import", str(bank), "--name", "vic", "--json")
    assert imported.exit_code == 0 and json.loads(imported.stdout)["version"] == 1
    images.EDITS["mirror"](images.scale(original, 0.5)).save(tmp_path / "copy.jpg")
    result = run("match", str(tmp_path / "copy.jpg"), "md5:" + bankfiles.md5(), "--json")
    assert result.exit_code == 0
    copy, unknown = json.loads(result.stdout)
    assert copy["input"] == str(tmp_path / "copy.jpg") and copy["quality"] >= 50 and len(copy["pdq"]) == 64
    match = copy["matches"][0]
    assert (match["bank"], match["hash_type"], match["category"], match["series"]) == ("vic", "pdq", "child_abuse",
                                                                                      "Clouds")
    assert 0 <= match["distance"] <= 31
    assert unknown["matches"] == []
    shown = json.loads(run("bank", "show", "vic", "--json").stdout)
    assert shown["versions"][0]["entries"] == 3  # MD5, SHA-1 and PDQ of the one media record
    assert json.loads(run("bank", "list", "--json").stdout)[0]["name"] == "vic"


def test_a_malformed_bank_exits_1_with_its_problems(cli_env, tmp_path):
    bank = tmp_path / "bad.csv"
    bank.write_bytes(bankfiles.csv([("md5", "123", "child_abuse", "")]))
    result = run("bank", "import", str(bank), "--name", "b", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["refused"] and doc["problems"][0]["line"] == 2
    assert run("bank", "import", str(bank), "--name", "b", "--format", "xml").exit_code == 2
    assert run("bank", "show", "b").exit_code == 1


def test_rematch_and_changes(cli_env, tmp_path):
    result = run("media", "rematch", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["trigger"] == "retro"
    assert json.loads(result.stdout)["scope"] == "full"
    bank = tmp_path / "b.csv"
    bank.write_bytes(bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")]))
    imported = json.loads(run("bank", "import", str(bank), "--name", "b", "--json").stdout)
    assert imported["retro_match"]["scope"] == "incremental"
    again = run("media", "rematch", "--bank", "b", "--since", "0", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["scope"] == "incremental"
    assert run("media", "rematch", "--bank", "nobank").exit_code == 1
    assert run("media", "rematch", "--bank", "b", "--since", "7").exit_code == 2
    assert run("media", "rematch", "--since", "1").exit_code == 2
    assert json.loads(run("media", "changes", "--json").stdout) == []
    assert run("media", "classify", "999", "child_abuse", "--reason", "x").exit_code == 1


def test_a_list_of_64_digit_hashes_takes_its_type_in_any_spelling(cli_env, tmp_path):
    value = bankfiles.pdq()
    (tmp_path / "list.txt").write_bytes(bankfiles.lines([value]))
    imported = run("bank", "import", str(tmp_path / "list.txt"), "--name", "l", "--hash-type", "PDQHash", "--json")
    assert imported.exit_code == 0 and json.loads(imported.stdout)["entries"] == 1
    found = json.loads(run("match", f"PDQ:{value.upper()}", "--json").stdout)[0]
    assert [(m["bank"], m["hash_type"], m["distance"]) for m in found["matches"]] == [("l", "pdq", 0)]
    assert run("bank", "import", str(tmp_path / "list.txt"), "--name", "l", "--hash-type", "crc32").exit_code == 2
