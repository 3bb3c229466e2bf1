"""Report files uploaded through the web (a page or the API) go the way `tiptriage ingest` takes
them: into a folder only this process may read, through the whole data path, and gone after."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import UploadFile
from sqlalchemy.orm import Session

from tiptriage import pipeline


def ingest_uploads(session: Session, files: list[UploadFile], *, actor: str) -> pipeline.PipelineSummary:
    with tempfile.TemporaryDirectory(prefix="tiptriage-upload-") as folder:  # made 0700
        for n, upload in enumerate(files):
            name = Path(upload.filename or "").name or f"upload-{n}"  # the name only: never a path
            (Path(folder) / name).write_bytes(upload.file.read())
        return pipeline.process(session, [folder], actor=actor)
