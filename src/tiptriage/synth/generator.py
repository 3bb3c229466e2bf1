"""`generate`: a synthetic data set of reports, hash banks and ground truth. Never real data.

OUT_DIR/
  reports/   the set to ingest: NCMEC CyberTipline reports as NCMEC delivers them, a report document
             (`NCMEC-<id>.xml`) and one file-details document per file (`NCMEC-<id>.file-<n>.xml`),
             with only the elements of NCMEC's schema (and the `<reportId>` NCMEC adds); reports
             from other senders as tiptriage JSON (one per file, or `{"reports": [...]}` batches);
             CSV bulk lists from a hotline (`bulk-<n>.csv`, up to 1,000 reports each).
             With `extensions=True` NCMEC reports carry tiptriage's extension as well (`<action>`,
             `<personRef>`, `<reportedAt>`, `<espName>`) and most have their files inline.
  json/      every NCMEC report again as tiptriage JSON (`NCMEC-<id>.json`), as far as that format
             carries it (no incidents, details or associated accounts), for format-equivalence
             tests; not under reports/, where the same source and id would become a new version.
  banks/     `vics.json` (VICS 2.0 style) and `known.csv` (see synth/media.py).
  tables/    `ip_countries.csv` and `services.csv`: the world's IP allocation and its services' kinds,
             as a unit configures them (TIPTRIAGE_IP_COUNTRIES_FILE, TIPTRIAGE_SERVICES_FILE; synth/tables.py).
  truth.json ground truth (see synth/truth.py).

Deterministic: the same seed, number of reports and options give the same bytes on every run, every
day and with any number of worker processes (a fixed reference period, seeded Faker instances, one
`random.Random` per report, no clock). Memory stays bounded: reports are written as they are made.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tiptriage.intake.domain import ParsedReport
from tiptriage.intake.formats import csv_lists, cybertip, tiptriage_json
from tiptriage.synth import reference as ref
from tiptriage.synth import tables
from tiptriage.synth.media import KnownMedia, make_pool, write_known_csv, write_vics
from tiptriage.synth.people import Person, Pools
from tiptriage.synth.plan import PoliceWarning, ReportPlan, SynthOptions, World, plan_world, warning_date
from tiptriage.synth.render import Renderer
from tiptriage.synth.truth import expected_outcome_nl_2023

CSV_REPORTS_PER_FILE = 1000
WARNING_DELIVERY_SHARE = 0.7  # of warning outcomes: capacity allows a warning to be delivered
CHUNK = 200  # reports a worker renders per task
OUTPUTS = ("reports", "json", "banks", "tables", "truth.json")


@dataclass
class Summary:
    reports: int = 0
    persons: int = 0
    files: int = 0
    channels: Counter = field(default_factory=Counter)
    separate_files: int = 0  # NCMEC reports whose files came as separate file-details documents
    outcomes: Counter = field(default_factory=Counter)
    warnings: int = 0
    re_reports: int = 0
    vics_entries: int = 0
    csv_bank_entries: int = 0
    shared_ips: int = 0
    seconds: float = 0.0


@dataclass
class Made:
    """One rendered report as a worker hands it back: its truth, and the report itself when the
    parent has to write it (JSON batches and CSV lists collect reports in order)."""

    plan_index: int
    entry: dict
    outcome: str
    files: int
    report: ParsedReport | None = None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def generate(out_dir: str | Path, *, reports: int, seed: int, options: SynthOptions | None = None,
             workers: int = 1, on_report: Callable[[], None] | None = None, extensions: bool = False) -> Summary:
    """Write a data set of `reports` reports to `out_dir` (which must not hold one already).

    `extensions`: NCMEC reports carry tiptriage's `<action>` extension (and mostly inline files);
    the plan is the same, so the two variants of one seed differ only in what the reports state."""
    started = time.perf_counter()
    options = options or SynthOptions()
    out = Path(out_dir)
    _check_empty(out)
    for sub in ("reports", "json", "banks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    world = plan_world(seed, Pools(seed), reports, options)
    pool = make_pool(random.Random(f"{seed}/media"), pertinent=max(300, reports),
                     non_pertinent=max(30, reports // 20), comparison=max(5, reports // 200))
    summary = Summary(reports=len(world.plans), persons=len(world.persons), shared_ips=len(world.traps["shared_ips"]))
    summary.vics_entries = write_vics(out / "banks" / "vics.json", pool)
    summary.csv_bank_entries = write_known_csv(out / "banks" / "known.csv", pool)
    header = _header(seed, reports, options, world, pool, extensions)
    tables.write(header, out / "tables")
    truth = TruthWriter(out / "truth.json", header)
    collector = Collector(out, seed)
    warnings = list(world.warnings)
    warned = {w.person.pid for w in warnings}
    incidents = _incident_days(world.plans)
    deliveries = random.Random(f"{seed}/warnings")
    for made in _made_in_order(seed, out, world, pool, workers, extensions):
        plan = world.plans[made.plan_index]
        if made.report is not None:
            made.entry["path"] = collector.add(plan, made.report)
        if made.outcome == "WARNING" and plan.person.pid not in warned and not world.followup:
            warning = _maybe_warn(deliveries, plan, incidents)
            if warning is not None:
                warnings.append(warning)
                warned.add(plan.person.pid)
        truth.add(made.entry)
        _count(summary, plan, made, extensions)
        if on_report:
            on_report()
    collector.close()
    tail = {"warnings": [_warning_doc(w) for w in sorted(warnings, key=lambda w: (w.date, w.person.pid))]}
    if world.followup:
        tail["followup"] = _followup_doc(world, options)
    truth.close(tail)
    summary.warnings = len(warnings)
    summary.seconds = time.perf_counter() - started
    return summary


def _count(summary: Summary, plan: ReportPlan, made: Made, extensions: bool) -> None:
    summary.files += made.files
    summary.channels[plan.channel] += 1
    summary.separate_files += plan.ncmec and (plan.channel == "xml_siblings" or not extensions)
    summary.outcomes[made.outcome] += 1
    summary.re_reports += plan.after_warning is not None


def _check_empty(out: Path) -> None:
    present = [name for name in OUTPUTS if (out / name).exists()]
    if present:
        raise FileExistsError(f"{out} already holds {', '.join(present)}: choose an empty folder")


# --- rendering, in worker processes when asked ---------------------------------------------------

def _made_in_order(seed: int, out: Path, world: World, pool: list[KnownMedia], workers: int,
                   extensions: bool) -> Iterator[Made]:
    bounds = [(lo, min(lo + CHUNK, len(world.plans))) for lo in range(0, len(world.plans), CHUNK)]
    if workers <= 1 or len(bounds) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        renderer = Renderer(seed, world, pool, extensions=extensions)
        for lo, hi in bounds:
            yield from (_make(renderer, out, world.plans[i]) for i in range(lo, hi))
        return
    # Forked workers inherit the planned world instead of receiving it pickled.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(seed, world, pool, out, extensions)) as processes:
        for chunk in processes.imap(_render_range, bounds):
            yield from chunk


_worker: dict = {}  # the world a worker process renders from; set once per process by _init_worker


def _init_worker(seed: int, world: World, pool: list[KnownMedia], out: Path, extensions: bool) -> None:
    _worker.update(renderer=Renderer(seed, world, pool, extensions=extensions), plans=world.plans, out=out)


def _render_range(bounds: tuple[int, int]) -> list[Made]:
    renderer, plans, out = _worker["renderer"], _worker["plans"], _worker["out"]
    return [_make(renderer, out, plans[i]) for i in range(*bounds)]


def _make(renderer: Renderer, out: Path, plan: ReportPlan) -> Made:
    rendered = renderer.render(plan)
    outcome = expected_outcome_nl_2023(rendered.facts)
    if plan.warning_profile and outcome != "WARNING":
        raise AssertionError(f"report {plan.external_id} was planned to end in a warning, not {outcome}")
    report = rendered.report
    path = write_single(out, plan, report, extensions=renderer.extensions, quiet_events=rendered.quiet_events)
    entry = {"source": plan.source, "external_id": plan.external_id, "path": path, "person_id": plan.person.pid,
             "persons": rendered.persons, "files": rendered.files, "facts": rendered.facts.as_dict(),
             "outcome": outcome}
    if plan.after_warning is not None:
        entry["re_report_of_warning"] = plan.after_warning.date.isoformat()
    return Made(plan.index, entry, outcome, len(report.files), None if path else report)


_UNKNOWN_EVENT = re.compile(rb"\n *<eventName>Unknown</eventName>")


def write_single(out: Path, plan: ReportPlan, report: ParsedReport, *, extensions: bool = False,
                 quiet_events: bool = False) -> str | None:
    """Write a report that has a file of its own; its path, or None when it goes in a batch or list.

    An NCMEC report is written with only the schema's elements unless `extensions`; `quiet_events`
    leaves out the eventName of IP events of type Unknown, as the schema allows (read as Unknown)."""
    if plan.ncmec:
        data, siblings = ncmec_documents(plan, report, extensions=extensions, quiet_events=quiet_events)
        name = f"NCMEC-{report.external_id}"
        (out / "reports" / f"{name}.xml").write_bytes(data)
        for n, doc in enumerate(siblings, 1):
            (out / "reports" / f"{name}.file-{n}.xml").write_bytes(doc)
        (out / "json" / f"{name}.json").write_bytes(tiptriage_json.write(json_view(report)))
        return f"reports/{name}.xml"
    if plan.channel == "json" and not plan.batched:
        name = f"{report.external_id}.json"
        (out / "reports" / name).write_bytes(tiptriage_json.write(report))
        return f"reports/{name}"
    return None


def ncmec_documents(plan: ReportPlan, report: ParsedReport, *, extensions: bool = False,
                    quiet_events: bool = False) -> tuple[bytes, list[bytes]]:
    """An NCMEC report's documents: the report and, unless inline, one per file (see write_single)."""
    data, siblings = cybertip.write(report, inline_files=plan.channel == "xml", schema_only=not extensions)
    return (_UNKNOWN_EVENT.sub(b"", data) if quiet_events else data), siblings


def json_view(report: ParsedReport) -> ParsedReport:
    """An NCMEC report as far as tiptriage JSON carries it: without associated accounts (a role
    JSON does not know); incidents, details and the other NCMEC-only fields it leaves out itself."""
    return replace(report, persons=tuple(p for p in report.persons if p.role != "associated"))


class Collector:
    """JSON batches per sender and CSV bulk lists, filled in report order; bounded buffers."""

    def __init__(self, out: Path, seed: int):
        self.reports_dir = out / "reports"
        self.rng = random.Random(f"{seed}/batches")
        self.batches: dict[str, tuple[str, int, list]] = {}  # source -> (file name, size, reports)
        self.batch_count: Counter = Counter()
        self.csv_buffer: list[ParsedReport] = []
        self.csv_count = 0

    def add(self, plan: ReportPlan, report: ParsedReport) -> str:
        return self._csv(report) if plan.channel == "csv" else self._batched(plan.source, report)

    def _csv(self, report: ParsedReport) -> str:
        if len(self.csv_buffer) >= CSV_REPORTS_PER_FILE:
            self._flush_csv()
        self.csv_buffer.append(report)
        return f"reports/bulk-{self.csv_count + 1}.csv"

    def _flush_csv(self) -> None:
        if self.csv_buffer:
            self.csv_count += 1
            (self.reports_dir / f"bulk-{self.csv_count}.csv").write_bytes(csv_lists.write(self.csv_buffer))
            self.csv_buffer = []

    def _batched(self, source: str, report: ParsedReport) -> str:
        if source not in self.batches:
            self.batch_count[source] += 1
            name = f"{ref.JSON_SOURCES[source]['prefix']}-batch-{self.batch_count[source]:04d}.json"
            self.batches[source] = (name, self.rng.randint(2, 10), [])
        name, size, held = self.batches[source]
        held.append(report)
        if len(held) >= size:
            self._flush_batch(source)
        return f"reports/{name}"

    def _flush_batch(self, source: str) -> None:
        name, _, held = self.batches.pop(source)
        doc = {"reports": [tiptriage_json.to_dict(r) for r in held]}
        (self.reports_dir / name).write_bytes(json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))

    def close(self) -> None:
        self._flush_csv()
        for source in sorted(self.batches):
            self._flush_batch(source)


# --- truth ----------------------------------------------------------------------------------------

class TruthWriter:
    """truth.json, streamed: the world first, reports as they are made, warnings last.

    Header values that are mappings of iterators (media, persons) are written entry by entry, so
    the file never has to be held in memory whole.
    """

    def __init__(self, path: Path, header: dict):
        self.out = path.open("w", encoding="utf-8")
        self.out.write("{\n")
        for key, value in header.items():
            self.out.write(f"{json.dumps(key)}: ")
            if isinstance(value, Iterator):
                self._mapping(value)
            else:
                self.out.write(json.dumps(value, ensure_ascii=False))
            self.out.write(",\n")
        self.out.write('"reports": [')
        self.first = True

    def _mapping(self, items: Iterator[tuple[str, object]]) -> None:
        self.out.write("{")
        for n, (key, value) in enumerate(items):
            self.out.write(("\n" if n == 0 else ",\n") + f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
        self.out.write("\n}")

    def add(self, entry: dict) -> None:
        self.out.write(("\n" if self.first else ",\n") + json.dumps(entry, ensure_ascii=False))
        self.first = False

    def close(self, tail: dict) -> None:
        self.out.write("\n]")
        for key, value in tail.items():
            self.out.write(f",\n{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
        self.out.write("\n}\n")
        self.out.close()


def _header(seed: int, reports: int, options: SynthOptions, world: World, pool: list[KnownMedia],
            extensions: bool) -> dict:
    contacts = world.contacts_minor + world.contacts_adult
    persons = itertools.chain(((p.pid, _person_doc(p, "reported")) for p in world.persons),
                              ((p.pid, _person_doc(p, "contact")) for p in contacts))
    return {
        "generator": {"seed": seed, "reports": reports, "options": asdict(options),
                      "period": [ref.PERIOD_START.isoformat(), ref.PERIOD_END.isoformat()],
                      "policy_model": "tiptriage.synth.truth.expected_outcome_nl_2023", "extensions": extensions},
        "platforms": dict(ref.PLATFORMS),
        "ip_blocks": {country: list(blocks) for country, blocks in ref.IP_BLOCKS.items()},
        "media": ((m.mid, _media_doc(m)) for m in pool),
        "persons": persons,
        "traps": world.traps,
    }


def _media_doc(m: KnownMedia) -> dict:
    return {"md5": m.md5, "sha1": m.sha1, "pdq": m.pdq, "category": m.category, "csv_category": m.csv_category,
            "series": m.series, "victim_identified": m.victim_identified,
            "banks": [b for b, held in (("vics", m.in_vics), ("known_csv", m.in_csv)) if held]}


def _person_doc(p: Person, role: str) -> dict:
    return {"role": role, "given_name": p.given, "call_name": p.call_name, "family_name": p.family,
            "date_of_birth": p.dob.isoformat(), "country": p.country, "unit": p.homes[0][1].unit}


def _warning_doc(w: PoliceWarning) -> dict:
    return {"person_id": w.person.pid, "date": w.date.isoformat(), "unit": w.unit,
            "report": {"source": w.plan.source, "external_id": w.plan.external_id}}


def _followup_doc(world: World, options: SynthOptions) -> dict:
    def key(p: ReportPlan) -> dict:
        return {"source": p.source, "external_id": p.external_id}

    return {"hazards_per_year": dict(options.rereport_hazards), "end": ref.PERIOD_END.isoformat(),
            "persons": [{"person_id": f.index.person.pid, "group": f.group, "origin": f.origin.isoformat(),
                         "report": key(f.index),
                         "rereport": None if f.rereport is None else
                         key(f.rereport) | {"incident_at": f.rereport.incident_at.isoformat()}}
                        for f in world.followup]}


def _incident_days(plans: list[ReportPlan]) -> dict[str, list]:
    by_person: dict[str, list] = {}
    for p in plans:
        by_person.setdefault(p.person.pid, []).append(p.incident_at.date())
    return by_person


def _maybe_warn(rng: random.Random, plan: ReportPlan, incidents: dict[str, list]) -> PoliceWarning | None:
    """A warning for a warning outcome, when capacity allows and no later report of the person follows
    it (the re-reports after a warning are exactly the planned ones, so their share stays as asked)."""
    if rng.random() >= WARNING_DELIVERY_SHARE:
        return None
    day = warning_date(rng, plan.reported_at)
    if any(d >= day for d in incidents[plan.person.pid]):
        return None
    return PoliceWarning(plan.person, day, plan.person.home_on(day).unit or "", plan)
