"""Files uploaded through the web (a page or the API) go the way the CLI takes them: into a folder
only this process may read, through the same service, and gone after — report files through the
whole data path (`tiptriage ingest`), a bank file as the bank's next version (`tiptriage bank import`)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy.orm import Session

from tiptriage import pipeline
from tiptriage.media import service as media


@contextmanager
def _saved(files: list[UploadFile]) -> Iterator[tuple[Path, list[Path]]]:
    """The uploads as files in a folder made 0700 (the folder and the files), removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="tiptriage-upload-") as folder:
        paths = []
        for n, upload in enumerate(files):
            path = Path(folder) / (Path(upload.filename or "").name or f"upload-{n}")  # the name only: never a path
            path.write_bytes(upload.file.read())
            paths.append(path)
        yield Path(folder), paths


def ingest_uploads(session: Session, files: list[UploadFile], *, actor: str) -> pipeline.PipelineSummary:
    with _saved(files) as (folder, _):
        return pipeline.process(session, [folder], actor=actor)


def import_bank_upload(session: Session, upload: UploadFile, *, name: str, fmt: str | None,
                       category_map: dict[str, str], default_category: str | None, hash_type: str | None,
                       actor: str) -> media.ImportResult:
    """A bank file as the bank's next version, then the retro-match (committed stage by stage, as
    the CLI's import: the new version stands even if a long retro-match is stopped)."""
    with _saved([upload]) as (_, [path]):
        return media.import_bank(session, path, name=name, fmt=fmt, category_map=category_map,
                                 default_category=default_category, hash_type=hash_type, actor=actor,
                                 checkpoint=session.commit)
