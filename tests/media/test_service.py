import json

import pytest
from sqlalchemy import func, select

from tiptriage.accounts.actor import Actor
from tiptriage.audit import service as audit
from tiptriage.media import service
from tiptriage.media.banks import BankFormatError
from tiptriage.media.hashing import pdq_of_image
from tiptriage.media.models import BankEntry, FileMatch
from tiptriage.config import get_settings

from . import bankfiles, images
from .dbdata import add_report


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def near(value: str, bits: int) -> str:
    """The same PDQ with its lowest `bits` bits flipped."""
    return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"


def statuses(session, file_ids):
    found = service.file_status(session, file_ids)
    return [found[f]["status"] for f in file_ids]


def test_banks_in_all_three_formats_import(session, tmp_path):
    vics = service.import_bank(session, write(tmp_path, "v.json", bankfiles.vics([{"Category": 1}, {"Category": 2}])),
                               name="vic", actor=Actor("t"))
    csv = service.import_bank(session, write(tmp_path, "b.csv", bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")])),
                              name="csvbank", actor=Actor("t"))
    lines = service.import_bank(session, write(tmp_path, "l.txt", bankfiles.lines([bankfiles.sha1()] * 2)),
                                name="list", actor=Actor("t"))
    assert (vics.version, vics.entries, csv.entries, lines.entries) == (1, 4, 1, 1)
    banks = {b["name"]: b for b in service.list_banks(session, actor=Actor("t"))}
    assert {name: b["entries"] for name, b in banks.items()} == {"vic": 4, "csvbank": 1, "list": 1}
    assert banks["vic"]["categories"] == {"child_abuse": 2, "exploitive": 2} and banks["vic"]["imported_by"] == "t"
    detail = service.bank_detail(session, "vic", actor=Actor("t"))
    assert detail["category_map"]["2"] == "exploitive" and detail["versions"][0]["source_name"] == "v.json"
    assert [e.action for e in audit.events(session, action="bank.import")] == ["bank.import"] * 3


def test_reimport_applies_additions_removals_and_recategorisations_as_a_new_version(session, tmp_path):
    keep, drop, change = bankfiles.md5(), bankfiles.md5(), bankfiles.md5()
    first = bankfiles.csv([("md5", keep, "child_abuse", ""), ("md5", drop, "child_abuse", ""),
                           ("md5", change, "child_abuse", "")])
    service.import_bank(session, write(tmp_path, "1.csv", first), name="b", actor=Actor("t"))
    again = service.import_bank(session, write(tmp_path, "1b.csv", first), name="b", actor=Actor("t"))
    assert (again.changed, again.version) == (False, 1)
    second = bankfiles.csv([("md5", keep, "child_abuse", ""), ("md5", change, "exploitive", ""),
                            ("md5", bankfiles.md5(), "cgi_animation", "")])
    result = service.import_bank(session, write(tmp_path, "2.csv", second), name="b", actor=Actor("t"))
    assert (result.version, result.added, result.removed, result.recategorised) == (2, 1, 1, 1)
    rows = session.execute(select(BankEntry.value, BankEntry.category, BankEntry.added_version,
                                  BankEntry.removed_version).order_by(BankEntry.id)).all()
    assert (drop, "child_abuse", 1, 2) in rows and (change, "child_abuse", 1, 2) in rows  # kept, closed
    assert (change, "exploitive", 2, None) in rows and (keep, "child_abuse", 1, None) in rows


def test_a_malformed_file_leaves_the_previous_version_in_place(session, tmp_path):
    good = bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")])
    service.import_bank(session, write(tmp_path, "g.csv", good), name="b", actor=Actor("t"))
    bad = bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", ""), ("md5", "broken", "child_abuse", "")])
    with pytest.raises(BankFormatError) as info:
        service.import_bank(session, write(tmp_path, "bad.csv", bad), name="b", actor=Actor("t"))
    assert info.value.problems[0].line == 3
    assert service.bank_detail(session, "b", actor=Actor("t"))["version"] == 1
    assert session.execute(select(func.count()).select_from(BankEntry)).scalar_one() == 1
    refused = audit.events(session, action="bank.import.refused")
    assert refused and refused[0].details["problems"][0].startswith("line 3")
    assert audit.verify(session).ok


def test_banks_are_seen_by_analysts_and_administrators_and_imported_by_administrators_only(session, tmp_path):
    path = write(tmp_path, "b.csv", bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")]))
    with pytest.raises(PermissionError):
        service.import_bank(session, path, name="b", actor=Actor("anna", roles=["analyst"]))
    service.import_bank(session, path, name="b", actor=Actor("adam", roles=["admin"]))
    assert service.list_banks(session, actor=Actor("anna", roles=["analyst"]))[0]["entries"] == 1
    for role in ("officer", "intake", "auditor"):
        with pytest.raises(PermissionError):
            service.list_banks(session, actor=Actor("x", roles=[role]))
        with pytest.raises(PermissionError):
            service.bank_detail(session, "b", actor=Actor("x", roles=[role]))


def test_each_file_ends_up_known_new_unrated_or_non_pertinent(session, tmp_path):
    abuse_md5, benign_md5, pdq = bankfiles.md5(), bankfiles.md5(), bankfiles.pdq()
    service.import_bank(session, write(tmp_path, "b.csv", bankfiles.csv([
        ("md5", abuse_md5, "child_abuse", "S7"), ("md5", benign_md5, "non_pertinent", ""),
        ("pdq", pdq, "exploitive", "")])), name="b", actor=Actor("t"))
    report, files = add_report(session, [
        {"hashes": {"md5": abuse_md5}},
        {"hashes": {"md5": bankfiles.md5(), "pdq": near(pdq, 31)}},
        {"hashes": {"md5": bankfiles.md5(), "pdq": near(pdq, 32)}, "classification": "A1"},
        {"hashes": {"md5": bankfiles.md5()}},
        {"hashes": {"md5": benign_md5}},
        {"hashes": {"md5": benign_md5}, "classification": "B2"},
    ])
    summary = service.match_reports(session, [report], actor=Actor("t"))
    assert summary.files == 6 and summary.changes == []
    assert statuses(session, files) == ["known", "known", "new", "unrated", "non_pertinent", "unrated"]
    known = service.file_status(session, files[:2])
    assert known[files[0]]["matches"] == [{"bank": "b", "bank_version": 1, "hash_type": "md5", "category": "child_abuse",
                                           "series": "S7", "victim_identified": None, "distance": 0}]
    assert known[files[1]]["matches"][0]["distance"] == 31 and known[files[1]]["category"] == "exploitive"


def test_retro_matching_lists_reports_whose_files_changed_and_keeps_the_old_match(session, tmp_path):
    value = bankfiles.md5()
    report, files = add_report(session, [{"hashes": {"md5": value}}])
    service.match_reports(session, [report], actor=Actor("t"))
    assert statuses(session, files) == ["unrated"]
    gained = service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("md5", value, "child_abuse", "")])),
                                 name="b", actor=Actor("t"))
    assert gained.retro.changed_reports == [report]
    assert statuses(session, files) == ["known"]
    assert service.pending_retriage(session) == [report]
    lost = service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([])), name="b", actor=Actor("t"))
    assert (lost.removed, lost.matched_files_affected, lost.retro.changed_reports) == (1, 1, [report])
    assert statuses(session, files) == ["unrated"]
    old = session.execute(select(FileMatch)).scalars().all()
    assert len(old) == 1 and old[0].superseded_run_id is not None  # the earlier match is still on record
    assert service.mark_retriaged(session, [report]) == 2
    session.commit()
    assert service.pending_retriage(session) == []


def test_an_analyst_classification_decides_an_unmatched_file(session):
    report, files = add_report(session, [{"hashes": {"md5": bankfiles.md5()}}])
    service.match_reports(session, [report], actor=Actor("t"))
    summary = service.classify_file(session, files[0], "child_abuse", actor=Actor("analyst"), reason="seen in review")
    assert statuses(session, files) == ["new"] and summary.changed_reports == [report]
    service.classify_file(session, files[0], "non_pertinent", actor=Actor("analyst"), reason="second look")
    assert statuses(session, files) == ["non_pertinent"]
    with pytest.raises(ValueError):
        service.classify_file(session, files[0], "bad", actor=Actor("analyst"))


def test_low_quality_bank_hashes_are_not_matched(session, tmp_path):
    weak, strong = bankfiles.pdq(), bankfiles.pdq()
    data = ("hash_type,hash,category,quality\n"
            f"pdq,{weak},child_abuse,20\npdq,{strong},child_abuse,90\n").encode()
    service.import_bank(session, write(tmp_path, "q.csv", data), name="b", actor=Actor("t"))
    report, files = add_report(session, [{"hashes": {"pdq": weak}}, {"hashes": {"pdq": strong}}])
    service.match_reports(session, [report], actor=Actor("t"))
    assert statuses(session, files) == ["unrated", "known"]


def test_the_index_is_updated_incrementally_and_rebuilt_when_lost(session, tmp_path):
    a, b = bankfiles.pdq(), bankfiles.pdq()
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("pdq", a, "child_abuse", "")])), name="b", actor=Actor("t"))
    folder = get_settings().pdq_index_dir
    main = json.loads((folder / "manifest.json").read_text())["main"]
    service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([("pdq", a, "child_abuse", ""),
                                                                        ("pdq", b, "child_abuse", "")])),
                        name="b", actor=Actor("t"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["main"] == main and manifest["delta_size"] == 1  # b went into a delta
    report, files = add_report(session, [{"hashes": {"pdq": near(a, 5)}}, {"hashes": {"pdq": near(b, 9)}}])
    service.match_reports(session, [report], actor=Actor("t"))
    assert statuses(session, files) == ["known", "known"]
    for path in folder.glob("*.npy"):
        path.unlink()
    assert len(service.searcher(session)) == 2  # rebuilt from the database


def test_match_of_image_files_and_hashes(session, tmp_path):
    from tiptriage.media.lookup import lookup

    original = images.shapes()
    pdq = pdq_of_image(original).hash
    md5 = bankfiles.md5()
    service.import_bank(session, write(tmp_path, "b.csv", bankfiles.csv([("pdq", pdq, "child_abuse", "S1"),
                                                                        ("md5", md5, "exploitive", "")])),
                        name="b", actor=Actor("t"))
    images.EDITS["rotate90"](images.jpeg(original)).save(tmp_path / "copy.jpg")
    images.text().save(tmp_path / "other.png")
    docs = lookup(session, service.searcher(session), [str(tmp_path / "copy.jpg"), str(tmp_path / "other.png"),
                                                      md5, "pdq:" + pdq, "nonsense"])
    copy, other, exact, by_pdq, bad = docs
    assert [(m["bank"], m["hash_type"], m["category"], m["series"]) for m in copy["matches"]] == [
        ("b", "pdq", "child_abuse", "S1")]
    assert copy["matches"][0]["distance"] <= 31 and copy["matches"][0]["variant"] != "original"
    assert other["matches"] == [] and other["pdq_status"] == "matched"
    assert exact["matches"][0]["hash_type"] == "md5" and by_pdq["matches"][0]["distance"] == 0
    assert "error" in bad
