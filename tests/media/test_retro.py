"""Incremental retro-matching: after a bank import only the files its changes can affect are
matched again, and every file ends up exactly where a full re-match of all files puts it."""

import json
import random
import secrets

from sqlalchemy import select

from tiptriage.accounts.actor import Actor
from tiptriage.config import get_settings
from tiptriage.media import service, store
from tiptriage.media.models import FileMatch, FileMatchState

from . import bankfiles
from .dbdata import add_report
from .test_service import near, statuses, write


def snapshot(session) -> dict:
    """Every file's status, category, victim, reason and current matches (without run ids)."""
    session.expire_all()
    matches: dict[int, set] = {}
    for m in session.execute(select(FileMatch).where(FileMatch.superseded_run_id.is_(None))).scalars():
        matches.setdefault(m.file_id, set()).add((m.bank_entry_id, m.hash_type, m.distance, m.bank_version))
    return {s.file_id: (s.status, s.category, s.victim_identified, s.reason, frozenset(matches.get(s.file_id, ())))
            for s in session.execute(select(FileMatchState)).scalars()}


def assert_full_rematch_changes_nothing(session) -> None:
    before = snapshot(session)
    full = service.retro_match(session, actor=Actor("t"), reason="check")
    assert full.scope == "full" and full.changes == []
    assert snapshot(session) == before


def flip(value: str, bits: list[int]) -> str:
    n = int(value, 16)
    for b in bits:
        n ^= 1 << b
    return f"{n:064x}"


def test_additions_removals_and_recategorisations_touch_only_the_files_they_concern(session, tmp_path):
    gained, lost, lost_classified, recat, untouched = (bankfiles.md5() for _ in range(5))
    sha1, sha256 = bankfiles.sha1(), secrets.token_hex(32)
    v1 = [("md5", lost, "child_abuse", ""), ("md5", lost_classified, "child_abuse", ""),
          ("md5", recat, "child_abuse", "S1"), ("md5", untouched, "exploitive", ""), ("sha1", sha1, "child_abuse", "")]
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv(v1)), name="b", actor=Actor("t"))
    report, files = add_report(session, [
        {"hashes": {"md5": gained}},
        {"hashes": {"md5": lost}},
        {"hashes": {"md5": lost_classified}, "classification": "A2"},
        {"hashes": {"md5": recat}},
        {"hashes": {"md5": untouched}},
        {"hashes": {"md5": bankfiles.md5(), "sha1": sha1}},
        {"hashes": {"md5": bankfiles.md5(), "sha256": sha256}},
    ])
    other, other_files = add_report(session, [{"hashes": {"md5": bankfiles.md5()}}])
    service.match_reports(session, [report, other], actor=Actor("t"))
    assert statuses(session, files) == ["unrated", "known", "known", "known", "known", "known", "unrated"]

    v2 = [("md5", gained, "exploitive", ""), ("md5", recat, "non_pertinent", "S1"), ("md5", untouched, "exploitive", ""),
          ("sha1", sha1, "child_abuse", ""), ("sha256", sha256, "cgi_animation", "")]
    result = service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv(v2)), name="b", actor=Actor("t"))
    assert (result.added, result.removed, result.recategorised) == (2, 2, 1)
    retro = result.retro
    assert retro.scope == "incremental"
    # gained, lost, lost_classified, recat and the sha256 file; not the untouched ones, not the other report
    assert retro.files == 5
    assert statuses(session, files) == ["known", "unrated", "new", "non_pertinent", "known", "known", "known"]
    assert {(c["file_id"], c["old_status"], c["new_status"]) for c in retro.changes} == {
        (files[0], "unrated", "known"), (files[1], "known", "unrated"), (files[2], "known", "new"),
        (files[3], "known", "non_pertinent"), (files[6], "unrated", "known")}
    assert service.pending_retriage(session) == [report]
    assert statuses(session, other_files) == ["unrated"]
    assert_full_rematch_changes_nothing(session)


def test_a_series_or_victim_change_rewrites_the_match_rows_without_queuing(session, tmp_path):
    value = bankfiles.md5()
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("md5", value, "child_abuse", "S1")])),
                        name="b", actor=Actor("t"))
    report, files = add_report(session, [{"hashes": {"md5": value}}])
    service.match_reports(session, [report], actor=Actor("t"))
    result = service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([("md5", value, "child_abuse", "S2")])),
                                 name="b", actor=Actor("t"))
    assert result.recategorised == 1 and result.retro.files == 1 and result.retro.changes == []
    assert service.file_status(session, files)[files[0]]["matches"][0]["series"] == "S2"
    assert_full_rematch_changes_nothing(session)


def test_pdq_entries_added_and_removed_reach_the_files_within_the_distance(session, tmp_path):
    a, b, c = bankfiles.pdq(), bankfiles.pdq(), bankfiles.pdq()
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("pdq", a, "child_abuse", "")])),
                        name="b", actor=Actor("t"))
    report, files = add_report(session, [
        {"hashes": {"pdq": near(a, 20)}},   # known through a, which will be removed
        {"hashes": {"pdq": near(b, 31)}},   # within the distance of b, added
        {"hashes": {"pdq": near(b, 32)}},   # just outside it
        {"hashes": {"pdq": near(c, 3)}, "classification": "B1"},  # c is re-categorised below
    ])
    service.match_reports(session, [report], actor=Actor("t"))
    assert statuses(session, files) == ["known", "unrated", "unrated", "new"]
    service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([
        ("pdq", a, "child_abuse", ""), ("pdq", c, "child_abuse", "")])), name="b", actor=Actor("t"))
    assert statuses(session, files) == ["known", "unrated", "unrated", "known"]
    result = service.import_bank(session, write(tmp_path, "3.csv", bankfiles.csv([
        ("pdq", b, "exploitive", ""), ("pdq", c, "non_pertinent", "")])), name="b", actor=Actor("t"))
    assert (result.added, result.removed, result.recategorised) == (1, 1, 1)
    assert result.retro.files == 3  # a's neighbour, b's neighbour, c's neighbour; not the one 32 bits from b
    assert statuses(session, files) == ["unrated", "known", "unrated", "unrated"]  # c: banks say benign, platform B1
    assert service.file_status(session, [files[1]])[files[1]]["matches"][0]["distance"] == 31
    assert_full_rematch_changes_nothing(session)


def test_a_large_pdq_import_against_few_files_finds_the_same_files(session, tmp_path):
    entries = [bankfiles.pdq() for _ in range(40)]  # more changed PDQs than stored files: searched the other way
    report, files = add_report(session, [{"hashes": {"pdq": near(entries[3], 30)}},
                                         {"hashes": {"pdq": near(entries[9], 31)}, "classification": "A1"},
                                         {"hashes": {"pdq": near(entries[9], 33)}}])
    service.match_reports(session, [report], actor=Actor("t"))
    rows = [("pdq", v, "child_abuse" if i != 9 else "non_pertinent", "") for i, v in enumerate(entries)]
    result = service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv(rows)), name="b", actor=Actor("t"))
    assert result.retro.files == 2
    assert statuses(session, files) == ["known", "unrated", "unrated"]
    assert_full_rematch_changes_nothing(session)


def test_random_bank_histories_match_a_full_rematch_after_every_version(session, tmp_path):
    rng = random.Random(5)
    pool = [("md5", bankfiles.md5()) for _ in range(30)] + [("sha1", bankfiles.sha1()) for _ in range(10)]
    pool += [("pdq", bankfiles.pdq()) for _ in range(25)]
    pdqs = [v for t, v in pool if t == "pdq"]
    md5s = [v for t, v in pool if t == "md5"]
    specs = []
    for _ in range(80):
        hashes = {"md5": rng.choice(md5s) if rng.random() < 0.5 else bankfiles.md5()}
        if rng.random() < 0.3:
            hashes["sha1"] = rng.choice([v for t, v in pool if t == "sha1"])
        if rng.random() < 0.7:  # near one bank PDQ, some at the edge of the distance, some beyond
            hashes["pdq"] = flip(rng.choice(pdqs), rng.sample(range(256), rng.choice([0, 5, 17, 30, 31, 32, 40])))
        specs.append({"hashes": hashes, "classification": rng.choice([None, None, "A1", "B2"])})
    reports = [add_report(session, specs[i:i + 8])[0] for i in range(0, len(specs), 8)]
    service.match_reports(session, reports, actor=Actor("t"))
    total = len(specs)
    for version in range(1, 6):
        rows = [(t, v, rng.choice(["child_abuse", "exploitive", "cgi_animation", "non_pertinent"]),
                 rng.choice(["", "S1"])) for t, v in rng.sample(pool, rng.randint(10, len(pool)))]
        result = service.import_bank(session, write(tmp_path, f"{version}.csv", bankfiles.csv(rows)),
                                     name="b", actor=Actor("t"))
        assert result.version == version and result.retro.scope == "incremental"
        assert result.retro.files < total
        assert_full_rematch_changes_nothing(session)


def test_the_files_pdq_index_takes_in_files_stored_after_it_was_built(session, tmp_path, monkeypatch):
    a, b = bankfiles.pdq(), bankfiles.pdq()
    first, first_files = add_report(session, [{"hashes": {"pdq": near(a, 10)}}])
    service.match_reports(session, [first], actor=Actor("t"))
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("pdq", a, "child_abuse", "")])),
                        name="b", actor=Actor("t"))
    folder = get_settings().pdq_index_dir / store.FILES_FOLDER
    built = json.loads((folder / "manifest.json").read_text())
    assert built["main_size"] == 1
    later, later_files = add_report(session, [{"hashes": {"pdq": near(b, 12)}}])  # stored after: in the tail
    service.match_reports(session, [later], actor=Actor("t"))
    service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([("pdq", a, "child_abuse", ""),
                                                                        ("pdq", b, "exploitive", "")])),
                        name="b", actor=Actor("t"))
    assert statuses(session, later_files) == ["known"]
    assert json.loads((folder / "manifest.json").read_text())["main"] == built["main"]  # not rebuilt for one file
    monkeypatch.setattr(store, "FILES_REBUILD_FLOOR", 0)
    third, third_files = add_report(session, [{"hashes": {"pdq": near(a, 7)}}])
    service.match_reports(session, [third], actor=Actor("t"))
    service.import_bank(session, write(tmp_path, "3.csv", bankfiles.csv([("pdq", b, "exploitive", "")])),
                        name="b", actor=Actor("t"))
    rebuilt = json.loads((folder / "manifest.json").read_text())
    assert rebuilt["main"] != built["main"] and rebuilt["main_size"] == 3
    assert statuses(session, first_files + later_files + third_files) == ["unrated", "known", "unrated"]
    assert_full_rematch_changes_nothing(session)


def test_a_files_index_that_disagrees_with_the_database_is_rebuilt(session, tmp_path):
    a = bankfiles.pdq()
    report, files = add_report(session, [{"hashes": {"pdq": near(a, 4)}}])
    service.match_reports(session, [report], actor=Actor("t"))
    index = service.file_index_store(session)
    index.open(session)
    manifest = json.loads((index.folder / "manifest.json").read_text())
    manifest["last"] = bankfiles.pdq()  # as if built for another database
    (index.folder / "manifest.json").write_text(json.dumps(manifest))
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("pdq", a, "child_abuse", "")])),
                        name="b", actor=Actor("t"))
    assert statuses(session, files) == ["known"]
    assert json.loads((index.folder / "manifest.json").read_text())["main"] != manifest["main"]


def test_rematch_of_one_banks_changes_since_a_version(session, tmp_path):
    value, other = bankfiles.md5(), bankfiles.md5()
    report, files = add_report(session, [{"hashes": {"md5": value}}, {"hashes": {"md5": other}}])
    service.match_reports(session, [report], actor=Actor("t"))
    service.import_bank(session, write(tmp_path, "1.csv", bankfiles.csv([("md5", value, "child_abuse", "")])),
                        name="b", actor=Actor("t"))
    service.import_bank(session, write(tmp_path, "2.csv", bankfiles.csv([("md5", value, "child_abuse", ""),
                                                                        ("md5", other, "exploitive", "")])),
                        name="b", actor=Actor("t"))
    changes = service.bank_changes(session, "b", since=0)
    assert changes.versions and changes.exact["md5"] == {value, other}
    assert service.retro_match(session, actor=Actor("t"), changes=changes).files == 2
    assert service.retro_match(session, actor=Actor("t"), changes=service.bank_changes(session, "b")).files == 1
