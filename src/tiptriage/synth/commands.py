"""`tiptriage synth`: write a synthetic data set (the generator lives in synth/generator.py)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tiptriage.cliutil import EXIT_USAGE, console, err_console
from tiptriage.i18n import _, message, number
from tiptriage.synth.plan import SynthOptions

_DEFAULTS = SynthOptions()


def _share(default: float, text: str):
    return typer.Option(default, min=0.0, max=1.0, help=text)


def synth(out_dir: Path = typer.Argument(..., help="Folder to write the data set to (must not hold one)."),
          reports: int = typer.Option(2000, min=1, help="How many reports."),
          seed: int = typer.Option(1, help="Same seed, same data set."),
          juveniles: float = _share(_DEFAULTS.juveniles, "Share of reported persons under 18."),
          abroad: float = _share(_DEFAULTS.abroad, "Share of reported persons living abroad."),
          distributors: float = _share(_DEFAULTS.distributors, "Share of reports that show distribution."),
          undetermined: float = _share(_DEFAULTS.undetermined,
                                       "Share of reports (NCMEC) that cannot tell whether files were distributed."),
          escalated: float = _share(_DEFAULTS.escalated, "Share of reports (NCMEC) the platform escalated."),
          new_material: float = _share(_DEFAULTS.new_material, "Share of reports with new material."),
          contact_risk: float = _share(_DEFAULTS.contact_risk, "Share of reports with contact-risk indicators."),
          unidentified: float = _share(_DEFAULTS.unidentified, "Share of reports with only IP addresses."),
          rereports: float = _share(_DEFAULTS.rereports, "Share of reports that follow a warning."),
          unrated: float = _share(_DEFAULTS.unrated, "Share of reports with unrated files."),
          non_pertinent: float = _share(_DEFAULTS.non_pertinent, "Share of reports with non-pertinent files."),
          sibling_files: float = _share(_DEFAULTS.sibling_files,
                                        "With --extensions: share of NCMEC reports with separate file-details "
                                        "documents (without, all have them)."),
          other_sources: float = _share(_DEFAULTS.other_sources, "Share of reports from other senders."),
          extensions: bool = typer.Option(False, "--extensions",
                                          help="NCMEC reports also carry tiptriage's extension (<action> per "
                                               "file, inline files); by default only NCMEC's schema."),
          rereport_hazard: str = typer.Option(
              "", "--rereport-hazard",
              help="A follow-up cohort for `tiptriage evaluate`: yearly hazards of a new report per group, e.g. "
                   "warned=0.1,searched=0.05,no_action=0.3 (exponential; replaces --rereports)."),
          followup: int = typer.Option(100, min=1, help="With --rereport-hazard: persons per group."),
          workers: int = typer.Option(0, min=0, help="Processes to render with (0: one per core, at most 4); "
                                                     "the output is the same for any number.")) -> None:
    """Write a synthetic data set: CyberTipline XML, tiptriage JSON and CSV reports, hash banks, truth.json.

    NCMEC reports hold only what NCMEC's schema defines, file details as separate documents, unless
    --extensions. Synthetic only: generated people, random hashes, no media.
    """
    from tiptriage.synth.generator import default_workers, generate

    hazards = _hazards(rereport_hazard)
    options = SynthOptions(rereport_hazards=hazards, followup=followup, juveniles=juveniles, abroad=abroad, distributors=distributors,
                           undetermined=undetermined, escalated=escalated, new_material=new_material, contact_risk=contact_risk, unidentified=unidentified,
                           rereports=rereports, unrated=unrated, non_pertinent=non_pertinent,
                           sibling_files=sibling_files, other_sources=other_sources)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task(_("Generating reports"), total=reports)
            summary = generate(out_dir, reports=reports, seed=seed, options=options,
                               workers=workers or default_workers(), on_report=lambda: progress.advance(task),
                               extensions=extensions)
    except FileExistsError:
        err_console.print(_("{path} already holds a data set: choose an empty folder.", path=out_dir))
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as exc:  # a cohort larger than the data set's persons reported once
        err_console.print(message(exc))
        raise typer.Exit(EXIT_USAGE) from None
    _print_summary(summary, out_dir)


def _hazards(text: str) -> tuple[tuple[str, float], ...]:
    """`warned=0.1,searched=0.05,no_action=0.3` (`none` for no_action) as (group, hazard) pairs."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        group, _sep, value = part.partition("=")
        group = "no_action" if group.strip() == "none" else group.strip()
        try:
            pairs.append((group, float(value)))
            SynthOptions(rereport_hazards=(pairs[-1],))
        except ValueError:
            err_console.print(_("--rereport-hazard: '{part}' is not GROUP=HAZARD with a group of {groups} and a "
                                "yearly hazard between 0 and 50", part=part, groups="warned, searched, no_action"))
            raise typer.Exit(EXIT_USAGE) from None
    return tuple(pairs)


def _print_summary(summary, out_dir: Path) -> None:
    table = Table(title=_("Synthetic data set"), show_header=False)
    channels = summary.channels
    rows = [(_("Reports"), summary.reports), (_("CyberTipline XML"), channels["xml"] + channels["xml_siblings"]),
            (_("of which with separate file details"), summary.separate_files),
            (_("tiptriage JSON (other senders)"), channels["json"]), (_("CSV bulk list"), channels["csv"]),
            (_("Reported persons"), summary.persons), (_("Files"), summary.files),
            (_("Known hashes (VICS)"), summary.vics_entries), (_("Known hashes (CSV bank)"), summary.csv_bank_entries),
            (_("Shared IP addresses (traps)"), summary.shared_ips), (_("Warnings delivered"), summary.warnings),
            (_("Re-reports after a warning"), summary.re_reports)]
    for label, value in rows:
        table.add_row(label, number(value))
    console.print(table)
    outcomes = Table(title=_("Expected outcomes (ground truth)"))
    outcomes.add_column(_("Outcome"))
    outcomes.add_column(_("Reports"), justify="right")
    for outcome, count in summary.outcomes.most_common():
        outcomes.add_row(_(outcome), number(count))
    console.print(outcomes)
    console.print(_("Wrote {reports} reports to {out} in {seconds} s.", reports=number(summary.reports),
                    out=out_dir, seconds=number(round(summary.seconds, 1))))
