"""Audit: an append-only, hash-chained log of every ingest, rejection, access and change."""
