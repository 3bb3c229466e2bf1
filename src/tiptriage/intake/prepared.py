"""Ingest: a parsed report as the rows the store writes (built in the parse workers)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

from tiptriage.db import ColumnValues
from tiptriage.intake.compression import RAW_COMPRESSION, compressor
from tiptriage.intake.domain import Incident, ParsedReport
from tiptriage.intake.models import value_prefix


@dataclass
class Candidate:
    """A parsed report ready to store, with the raw documents it came from (report first)."""

    report: ParsedReport
    parts: list[tuple[str, bytes]]  # (file name, bytes)

    @property
    def content_sha256(self) -> str:
        return _content_sha256([hashlib.sha256(data).hexdigest() for _, data in self.parts])


def _content_sha256(digests: list[str]) -> str:
    if len(digests) == 1:
        return digests[0]
    # A report with sibling documents: the hash over its parts' hashes, in a fixed order.
    return hashlib.sha256((digests[0] + "".join(sorted(digests[1:]))).encode()).hexdigest()


class Prepared(NamedTuple):
    """A candidate as the rows the store writes, less the ids and version the store assigns.

    Built where the report was parsed (in the workers): plain tuples pickle about ten times faster
    than the domain objects, and hashing and compressing the raw bytes there keeps that work off
    the storing process, which is the bottleneck. Timestamps and dates are already in the form
    the database takes (`db.ColumnValues`).
    """

    source: str
    external_id: str
    content_sha256: str
    path_name: str  # the report document's file name, for a refusal by the database
    report: tuple  # REPORT_COLUMNS from "format" to "intake_flags"
    raws: tuple  # (name, sha256, size, compression, data) per document
    persons: tuple  # (PERSON_COLUMNS from "ref", identifier rows, address rows, IP event rows)
    files: tuple  # (FILE_COLUMNS from "ref", hash rows)


def prepare(candidate: Candidate, sqlite: bool) -> Prepared:
    """The rows of one candidate (see Prepared).

    Tuples, not lists: the garbage collector stops tracking a tuple of plain values, and the
    storing process holds a batch of these. tuple([...]) is cheaper than tuple(generator).
    """
    conv = ColumnValues(sqlite)
    ts, js = conv.ts, conv.js
    r = candidate.report
    digests = [hashlib.sha256(data).hexdigest() for _, data in candidate.parts]
    compress = compressor().compress
    raws = tuple([(name, digest, len(data), RAW_COMPRESSION, compress(data))
                  for (name, data), digest in zip(candidate.parts, digests, strict=True)])
    persons = tuple([
        ((p.ref, p.role, p.given_name, p.family_name, conv.day(p.date_of_birth), p.age, p.estimated_country,
          js(p.prior_reports), js(p.details)),
         tuple([(i.kind, i.value, i.verified, i.platform, ts(i.verified_at)) for i in p.identifiers]),
         tuple([(a.street, a.postcode, a.city, a.country) for a in p.addresses]),
         tuple([(e.ip, e.event, ts(e.at), e.port, e.possible_proxy) for e in p.ip_events]))
        for p in r.persons])
    files = tuple([
        ((f.ref, f.file_name, f.person_ref, f.action, js(f.recipients), ts(f.uploaded_at), f.viewed_by_esp,
          f.publicly_available, f.classification, js(f.annotations), f.relevance, js(f.details)),
         tuple([(h.hash_type, h.value, value_prefix(h.value)) for h in f.hashes]))
        for f in r.files])
    report = (r.format, r.incident_type, ts(r.incident_at), ts(r.reported_at), r.reporter, js(r.annotations),
              r.platform, r.escalation, r.batched, js([incident_doc(i) for i in r.incidents]),
              js(r.reporter_contact), js(r.law_enforcement), js([list(f) for f in r.flags]))
    return Prepared(r.source, r.external_id, _content_sha256(digests), candidate.parts[0][0], report, raws,
                    persons, files)


def incident_doc(incident: Incident) -> dict:
    """An incident as stored (reports.incidents) and shown (`reports show --json`)."""
    return {"kind": incident.kind, "details": [list(d) for d in incident.details],
            "third_party_hosted": incident.third_party_hosted,
            "ip_events": [{"ip": e.ip, "event": e.event, "at": iso(e.at), "port": e.port,
                           "possible_proxy": e.possible_proxy} for e in incident.ip_events]}


def iso(value) -> str | None:
    return None if value is None else value.isoformat()
