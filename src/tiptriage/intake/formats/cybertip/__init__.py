"""NCMEC CyberTipline report XML: the schema's tables (`schema`), the reader and the writer."""

from tiptriage.intake.formats.cybertip.reader import (
    FORMAT, MAX_MARKUP, SOURCE, SiblingFile, join_files, parse_document, parse_report, read,
)
from tiptriage.intake.formats.cybertip.writer import write

__all__ = ["FORMAT", "MAX_MARKUP", "SOURCE", "SiblingFile", "join_files", "parse_document", "parse_report", "read",
           "write"]
