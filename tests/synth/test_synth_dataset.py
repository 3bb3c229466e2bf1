"""The generated data set: reproducible, ingestible, and its truth agrees with its reports."""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections import defaultdict
from datetime import date

from tiptriage import pipeline
from tiptriage.accounts.actor import Actor
from tiptriage.intake.formats import read_file, tiptriage_json
from tiptriage.synth.generator import generate, json_view
from tiptriage.synth.media import PDQ_MATCH_DISTANCE
from tiptriage.synth.noise import age_at, gmail_canonical
from tiptriage.synth.plan import SynthOptions
from tiptriage.synth.reference import CONTACT_RISK_ANNOTATIONS, ENTICEMENT_INCIDENT
from tiptriage.synth.truth import (
    DISTRIBUTED, UNDETERMINED, ReportFacts, distribution, expected_outcome_nl_2023, travel,
)

NEUTRAL_FILE_NAME = re.compile(r"^(IMG_\d{4}\.(jpg|JPG)|DSC\d{5}\.jpg|vid_\d{4}\.mp4|VID-\d{7,8}-WA\d{4}\.mp4"
                               r"|image\(\d+\)\.png|PXL_\d{6}\.jpg|Screenshot_\d{4}\.png|video_\d{4}\.mov)$")


def tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def entries(truth) -> dict:
    return {(r["source"], r["external_id"]): r for r in truth["reports"]}


def reported_blocks(report):
    return [p for p in report.persons if p.role == "reported"]


# --- reproducible ----------------------------------------------------------------------------------

def test_same_seed_gives_the_same_bytes_with_any_number_of_workers(synth_set, tmp_path):
    generate(tmp_path / "again", reports=synth_set.reports, seed=synth_set.seed, workers=2)
    assert tree(tmp_path / "again") == tree(synth_set.out)


def test_another_seed_gives_another_data_set(synth_set, tmp_path):
    generate(tmp_path / "other", reports=synth_set.reports, seed=synth_set.seed + 1)
    first, second = tree(synth_set.out), tree(tmp_path / "other")
    assert first["truth.json"] != second["truth.json"]
    assert first["banks/vics.json"] != second["banks/vics.json"]
    shared = set(first) & set(second)
    assert not any(first[name] == second[name] for name in shared if name.startswith("reports/NCMEC"))


def test_an_existing_data_set_is_never_overwritten(synth_set):
    out = synth_set.out
    before = (out / "truth.json").read_bytes()
    try:
        generate(out, reports=5, seed=1)
    except FileExistsError as exc:
        assert "truth.json" in str(exc)
    else:
        raise AssertionError("generate wrote over an existing data set")
    assert (out / "truth.json").read_bytes() == before


# --- ingestible ------------------------------------------------------------------------------------

def test_every_report_parses_and_its_json_twin_is_equal(synth_set, parsed, truth):
    out = synth_set.out
    reports, errors = parsed
    assert errors == []
    assert set(reports) == set(entries(truth))
    twins = sorted((out / "json").iterdir())
    assert len(twins) == sum(1 for source, _ in reports if source == "NCMEC")
    for path in twins:  # the twin carries what tiptriage JSON can carry of the NCMEC report
        [item] = list(read_file(str(path), path.read_bytes()))
        original = json_view(reports[(item.report.source, item.report.external_id)])
        assert tiptriage_json.to_dict(item.report) == tiptriage_json.to_dict(original), path.name


def test_ingest_stores_every_report_and_rejects_nothing(synth_set, session):
    summary = pipeline.ingest(session, [synth_set.out / "reports"], actor=Actor("test"))
    assert (summary.rejected, summary.stored, summary.versions) == (0, synth_set.reports, 0), summary.errors[:3]


def test_every_channel_is_used(synth_set, truth):
    out = synth_set.out
    names = [p.name for p in (out / "reports").iterdir()]
    assert any(re.fullmatch(r"NCMEC-\d+\.file-\d+\.xml", n) for n in names)
    assert any(re.fullmatch(r"bulk-\d+\.csv", n) for n in names)
    batches = [json.loads((out / "reports" / n).read_text()) for n in names if "-batch-" in n]
    assert batches and all(len(doc["reports"]) >= 1 for doc in batches)
    sources = {r["source"] for r in truth["reports"]}
    assert {"NCMEC", "INHOPE ICCAM"} <= sources and len(sources) >= 4
    other = sum(r["source"] != "NCMEC" for r in truth["reports"]) / len(truth["reports"])
    assert abs(other - SynthOptions().other_sources) < 0.01


def test_file_names_are_neutral(parsed):
    names = {f.file_name for r in parsed[0].values() for f in r.files}
    assert all(NEUTRAL_FILE_NAME.match(n) for n in names), sorted(n for n in names if not NEUTRAL_FILE_NAME.match(n))


# --- truth agrees with the reports -----------------------------------------------------------------

def test_every_person_block_and_file_is_in_the_truth(parsed, truth):
    for key, report in parsed[0].items():
        entry = entries(truth)[key]
        assert set(entry["persons"]) == {p.ref for p in report.persons}
        assert set(entry["persons"].values()) <= set(truth["persons"])
        assert entry["persons"]["p1"] == entry["person_id"]
        assert set(entry["files"]) == {f.ref for f in report.files}


def _in_nl(ip: str, blocks: list[str]) -> bool:
    return any(ipaddress.ip_address(ip) in ipaddress.ip_network(b) for b in blocks)


def _nl_phone(value: str) -> bool:
    return value.startswith(("+31", "0031", "06", "(06"))


def test_facts_agree_with_what_each_report_says(parsed, truth):
    nl_blocks = truth["ip_blocks"]["NL"]
    by_person = defaultdict(list)
    for r in truth["reports"]:
        by_person[r["person_id"]].append(r)
    for key, report in parsed[0].items():
        entry = entries(truth)[key]
        facts, files = entry["facts"], entry["files"]
        # Each file's verdict is the analyst's reading of the report as intake reads it.
        how = travel(report, truth["platforms"])
        verdicts = {f.ref: distribution(f, how) for f in report.files}
        assert verdicts == {ref: f["distribution"] for ref, f in files.items()}, key
        counted = [verdicts[ref] for ref, f in files.items() if f["status"] != "non_pertinent"]
        assert facts["distributed"] == (DISTRIBUTED in counted), key
        assert facts["undetermined"] == (UNDETERMINED in counted and DISTRIBUTED not in counted), key
        assert facts["escalated"] == (report.escalation is not None)
        others = [r for r in by_person[entry["person_id"]] if r is not entry]
        assert facts["distributed_elsewhere"] == any(r["facts"]["distributed"] for r in others)
        assert facts["new_material_elsewhere"] == any(r["facts"]["new_material"] for r in others)
        statuses = [f["status"] for f in files.values()]
        reported = reported_blocks(report)
        assert facts["new_material"] == ("new" in statuses)
        assert facts["unrated"] == ("unrated" in statuses)
        assert facts["identified"] == any(p.given_name or p.family_name or p.addresses or any(
            i.kind in ("email", "phone") for i in p.identifiers) for p in reported)
        person = truth["persons"][entry["person_id"]]
        assert facts["minor"] == (age_at(date.fromisoformat(person["date_of_birth"]), report.incident_at.date()) < 18)
        # Addresses the platform flags as possible proxies place no one.
        signals = [_in_nl(e.ip, nl_blocks) for p in reported for e in p.ip_events if not e.possible_proxy]
        signals += [_nl_phone(i.value) for p in reported for i in p.identifiers if i.kind == "phone"]
        signals += [a.country == "NL" for p in reported for a in p.addresses]
        assert signals and (all(signals) if facts["in_jurisdiction"] else not any(signals))
        minors = [p for p in report.persons if p.role == "recipient" and p.age is not None and p.age < 18]
        minors += [p for p in report.persons if p.role == "recipient" and p.date_of_birth is not None
                   and age_at(p.date_of_birth, report.incident_at.date()) < 18]
        visible_risk = (bool(set(report.annotations) & set(CONTACT_RISK_ANNOTATIONS)) or bool(minors)
                        or report.incident_type == ENTICEMENT_INCIDENT)
        assert facts["contact_risk"] == visible_risk, key


def test_new_and_unrated_files_differ_by_classification(parsed, truth):
    for key, report in parsed[0].items():
        files = entries(truth)[key]["files"]
        for f in report.files:
            status = files[f.ref]["status"]
            if status == "new":
                assert f.classification is not None
            elif status in ("unrated", "non_pertinent"):
                assert f.classification is None


def test_outcomes_follow_the_policy_model(truth):
    for entry in truth["reports"]:
        assert entry["outcome"] == expected_outcome_nl_2023(ReportFacts(**entry["facts"]))
    assert {"URGENT", "CRIMINAL_CASE", "YOUTH", "WARNING", "NEEDS_REVIEW"} <= {e["outcome"] for e in truth["reports"]}


def test_shares_follow_the_options(truth):
    options, reports = SynthOptions(), truth["reports"]

    def share(fact: str, value: bool = True) -> float:
        return sum(r["facts"][fact] == value for r in reports) / len(reports)

    assert abs(share("distributed") - options.distributors) < 0.01
    assert abs(share("undetermined") - options.undetermined) < 0.01
    assert abs(share("escalated") - options.escalated) < 0.01
    assert abs(share("new_material") - options.new_material) < 0.01
    assert abs(share("contact_risk") - options.contact_risk) < 0.01
    assert abs(share("unrated") - options.unrated) < 0.01
    assert abs(share("identified", False) - options.unidentified) < 0.01
    assert abs(share("re_report_after_warning") - options.rereports) < 0.01
    first: dict[str, dict] = {}
    for r in reports:
        first.setdefault(r["person_id"], r["facts"])
    assert abs(sum(f["minor"] for f in first.values()) / len(first) - options.juveniles) < 0.03
    assert abs(sum(not f["in_jurisdiction"] for f in first.values()) / len(first) - options.abroad) < 0.02


def test_most_persons_are_reported_once_and_some_up_to_six_times(truth):
    counts = defaultdict(int)
    for r in truth["reports"]:
        counts[r["person_id"]] += 1
    spread = sorted(counts.values())
    assert spread[len(spread) // 2] == 1 and 4 <= max(spread) <= 6


# --- banks -----------------------------------------------------------------------------------------

def _banks(out):
    vics = json.loads((out / "banks" / "vics.json").read_text())
    with (out / "banks" / "known.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return vics, rows


def test_banks_overlap_and_each_speaks_its_own_scheme(synth_set):
    vics, rows = _banks(synth_set.out)
    assert vics["@odata.context"].endswith("$metadata#Media")
    assert {"MD5", "SHA1", "Category", "Series", "VictimIdentified", "AlternativeHashes"} <= set(vics["value"][0])
    assert {e["Category"] for e in vics["value"]} == {0, 1, 2, 3, 4}
    assert all(h["HashName"] == "PDQ" and len(h["HashValue"]) == 64 for e in vics["value"] for h in e["AlternativeHashes"])
    assert {r["category"] for r in rows} <= {"A1", "A2", "B1", "B2", "NP"}
    assert {r["hash_type"] for r in rows} == {"md5", "sha1", "pdq"}
    vics_md5 = {e["MD5"].lower() for e in vics["value"]}
    csv_md5 = {r["hash"] for r in rows if r["hash_type"] == "md5"}
    assert vics_md5 & csv_md5 and vics_md5 - csv_md5 and csv_md5 - vics_md5


def test_known_files_match_a_bank_and_the_others_match_none(synth_set, parsed, truth):
    vics, rows = _banks(synth_set.out)
    exact = {e["MD5"].lower() for e in vics["value"]} | {e["SHA1"].lower() for e in vics["value"]}
    exact |= {r["hash"] for r in rows if r["hash_type"] in ("md5", "sha1")}
    pdqs = [int(h["HashValue"], 16) for e in vics["value"] for h in e["AlternativeHashes"]]
    pdqs += [int(r["hash"], 16) for r in rows if r["hash_type"] == "pdq"]

    def distance(value: str) -> int:
        return min((int(value, 16) ^ p).bit_count() for p in pdqs)

    ways = defaultdict(int)
    for key, report in parsed[0].items():
        files = entries(truth)[key]["files"]
        for f in report.files:
            hashes, status = {h.hash_type: h.value for h in f.hashes}, files[f.ref]["status"]
            by_exact = any(hashes.get(k) in exact for k in ("md5", "sha1"))
            near = distance(hashes["pdq"]) if "pdq" in hashes else None
            if status in ("known", "non_pertinent"):
                assert by_exact or (near is not None and near <= PDQ_MATCH_DISTANCE), (key, f.ref)
                category = truth["media"][files[f.ref]["media"]]["category"]
                assert (category in (1, 2, 3)) if status == "known" else category == 0
                ways[files[f.ref]["match"], tuple(sorted(hashes))] += 1
            else:
                assert not by_exact and (near is None or near > PDQ_MATCH_DISTANCE), (key, f.ref)
    assert ways["md5", ("md5",)] and ways["sha1", ("sha1",)] and ways["pdq", ("pdq",)]
    near_only = [distance(f.hashes[0].value) for r in parsed[0].values() for f in r.files
                 if [h.hash_type for h in f.hashes] == ["pdq"]]
    assert near_only and all(0 < d <= PDQ_MATCH_DISTANCE for d in near_only)  # near, never the bank's own


# --- traps and noise -------------------------------------------------------------------------------

def test_shared_ip_addresses_join_different_people_at_nearby_times(parsed, truth):
    traps = truth["traps"]["shared_ips"]
    assert traps and {t["kind"] for t in traps} <= {"cgnat", "university_nat", "public_wifi"}
    for trap in traps:
        assert len(set(trap["person_ids"])) >= 2
        uses = [(entries(truth)[key]["person_id"], e.at) for key, r in parsed[0].items()
                for p in reported_blocks(r) for e in p.ip_events if e.ip == trap["ip"]]
        assert {pid for pid, _ in uses} == set(trap["person_ids"])
        times = [at for _, at in uses]
        assert (max(times) - min(times)).days <= 62


def test_look_alikes_are_different_people(truth):
    persons, reported = truth["persons"], {r["person_id"] for r in truth["reports"]}
    assert truth["traps"]["namesakes"] and truth["traps"]["twins"]
    for a, b in truth["traps"]["namesakes"]:
        assert a != b and {a, b} <= reported
        pa, pb = persons[a], persons[b]
        assert (pa["call_name"], pa["family_name"]) == (pb["call_name"], pb["family_name"])
        assert pa["date_of_birth"][:4] == pb["date_of_birth"][:4]
    for a, b in truth["traps"]["twins"]:
        assert a != b and {a, b} <= reported
        assert persons[a]["date_of_birth"] == persons[b]["date_of_birth"]
        assert persons[a]["family_name"] == persons[b]["family_name"]


def test_warnings_come_before_the_re_reports_they_aggravate(parsed, truth):
    warnings = {w["person_id"]: w for w in truth["warnings"]}
    assert len(warnings) == len(truth["warnings"])  # one warning per person
    by_key = entries(truth)
    for w in truth["warnings"]:
        assert by_key[(w["report"]["source"], w["report"]["external_id"])]["outcome"] == "WARNING"
        assert w["unit"]
    for key, report in parsed[0].items():
        entry = by_key[key]
        warning = warnings.get(entry["person_id"])
        after = warning is not None and report.incident_at.date() > date.fromisoformat(warning["date"])
        assert entry["facts"]["re_report_after_warning"] == after, key


def test_identity_noise_shows_up_between_reports_of_one_person(parsed, truth):
    persons = truth["persons"]
    swapped = nicknames = typos = 0
    emails, phones, devices = defaultdict(set), [], defaultdict(set)
    for key, report in parsed[0].items():
        pid = entries(truth)[key]["person_id"]
        true = persons[pid]
        for p in reported_blocks(report):
            swapped += p.given_name == true["family_name"] and p.family_name in (true["given_name"], true["call_name"])
            nicknames += p.given_name == true["call_name"] != true["given_name"]
            typos += p.family_name is not None and p.family_name.lower() != true["family_name"].lower() and len(
                p.family_name) in range(len(true["family_name"]) - 1, len(true["family_name"]) + 2)
            for i in p.identifiers:
                if i.kind == "email":
                    emails[pid].add(i.value)
                elif i.kind == "phone":
                    phones.append(i.value)
                elif i.kind == "device_id":
                    devices[i.value].add(next((x.value for x in p.identifiers if x.kind == "esp_user_id"), None))
    assert swapped and nicknames and typos
    assert any(len({gmail_canonical(e) for e in found}) < len(found) for found in emails.values())  # variants
    assert any(len({e.split("@")[1].lower() for e in found}) > 1 for found in emails.values())  # other provider
    assert {"+31 6", "06-", "0031"} <= {prefix for v in phones for prefix in ("+31 6", "06-", "0031")
                                        if v.startswith(prefix)}
    assert any(len(accounts - {None}) > 1 for accounts in devices.values())  # a device outlives an account
