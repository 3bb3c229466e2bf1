"""Every read service that returns personal data puts the reader on record (who, which reports),
so no front door — the CLI today, the web application next — can forget it."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date

import pytest
from registry.scenario import warned_then_reported_again
from sqlalchemy import select
from triage.dbdata import person

from tiptriage import flows
from tiptriage.accounts.actor import Actor, NotAllowed
from tiptriage.audit import service as audit
from tiptriage.audit.models import AuditEvent
from tiptriage.intake import documents as report_documents
from tiptriage.registry import views
from tiptriage.subjects import documents, lookup
from tiptriage.triage import service as triage

WHO = Actor("lezer")
PEOPLE = (person("Jan", "Jansen", email="jan.jansen@example.nl"),
          person("Piet", "Pieters", email="piet@example.org", dob=date(1990, 2, 3), postcode="1011 AB"))


def _reads(session, warning_id: int, report_id: int) -> dict:
    subject = triage.report_triage(session, report_id)["recommendation"]["subject_ids"][0]
    return {
        "triage.queue.view": lambda: triage.view_queue(session, actor=WHO),
        "triage.view": lambda: triage.view_report_triage(session, report_id, actor=WHO),
        "warning.view": lambda: views.view_warnings(session, actor=WHO),
        "warning.earlier_search": lambda: views.view_warning(session, warning_id, actor=WHO, purpose="show"),
        "alert.view": lambda: views.view_alerts(session, actor=WHO),
        "investigation.view": lambda: views.view_investigations(session, actor=WHO),
        "plan.view": lambda: flows.plan(session, actor=WHO),
        "subject.history.view": lambda: flows.subject_history(session, subject, actor=WHO),
        "subjects.show": lambda: documents.subject_document(session, subject, actor=WHO),
        "subjects.search": lambda: lookup.search(session, "piet@example.org", actor=WHO, reason="check"),
        "report.view": lambda: report_documents.report_document(session, report_id, actor=WHO, reason="show"),
        "report.raw_read": lambda: report_documents.read_raw(session, report_id, actor=WHO, reason="show"),
    }


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.seq)).scalars())


def test_every_read_service_puts_the_reader_on_record(session, tmp_path):
    warning_id, first, second = warned_then_reported_again(session, tmp_path, *PEOPLE)
    for action, read in _reads(session, warning_id, second).items():
        before = len(_events(session, action))
        read()
        events = _events(session, action)
        assert len(events) == before + 1 and events[-1].actor == "lezer", action


def test_a_read_stays_on_record_when_the_command_is_refused_after_it(session, tmp_path):
    _, _, second = warned_then_reported_again(session, tmp_path, *PEOPLE)
    session.commit()
    for action, read in _reads(session, 0, second).items():
        if action.startswith(("subjects.", "report.")):  # the reads of the rooms split by job
            before = len(_events(session, action))
            with pytest.raises(LookupError), audit.unit_of_work(lambda: nullcontext(session)):
                read()
                raise LookupError("refused after the read")
            assert len(_events(session, action)) == before + 1, action


def test_a_warning_read_names_its_reports(session, tmp_path):
    warning_id, first, _ = warned_then_reported_again(session, tmp_path, *PEOPLE)
    views.view_warning(session, warning_id, actor=WHO, purpose="show")
    viewed = [e for e in _events(session, "warning.view") if e.actor == "lezer"]
    assert viewed[-1].entity_ids == [first]


def test_a_person_bound_to_units_sees_only_their_units_work(session, tmp_path):
    warning_id, first, second = warned_then_reported_again(session, tmp_path, *PEOPLE)
    unit = triage.report_triage(session, first)["unit"]
    own = Actor("limburger", roles=["analyst"], units=[unit])
    other = Actor("rotterdammer", roles=["analyst"], units=["Rotterdam"])
    assert {r["report_id"] for r in triage.view_queue(session, actor=own, statuses=("open", "decided"))} >= {first}
    assert triage.view_queue(session, actor=other, statuses=("open", "decided")) == []
    assert views.view_warnings(session, actor=other) == [] and views.view_warnings(session, actor=own)
    assert flows.plan(session, actor=other).keys() <= {"Rotterdam"}
    for read in (lambda: triage.view_queue(session, actor=other, unit=unit),
                 lambda: triage.view_report_triage(session, first, actor=other),
                 lambda: views.view_warning(session, warning_id, actor=other, purpose="show"),
                 lambda: views.view_alerts(session, actor=other, unit=unit)):
        with pytest.raises(NotAllowed, match=f"may not see the work of unit {unit}"):
            read()
