"""`tiptriage synth` (placeholder wiring; the generator lives in synth/generator.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def synth(out_dir: Path = typer.Argument(..., help="Folder to write the data set to."),
          reports: int = typer.Option(2000, min=1, help="How many reports."),
          seed: int = typer.Option(1, help="Same seed, same data set.")) -> None:
    """Write a synthetic data set: CyberTipline XML + tiptriage JSON reports, hash banks, truth.json."""
    from tiptriage.synth.generator import generate

    generate(out_dir, reports=reports, seed=seed)
