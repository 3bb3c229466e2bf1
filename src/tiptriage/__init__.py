"""tiptriage: triage of online child sexual exploitation reports (metadata and hashes only)."""

__version__ = "0.1.0"
