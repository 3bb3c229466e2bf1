"""A unit's work list for an action week, as CSV and as a printable PDF (WeasyPrint): for each item
what the officers at the door need — the day, the name, the address, what to deliver, the warning's
legal text and the referral to Stop it Now! — and nothing more (no report, no file, no hash).

A work list leaves the system: the file is written for its owner only (0600) and never over an
existing one; in the CSV a value that a spreadsheet would run as a formula (starting with = + - @,
a tab or a carriage return) is prefixed with ' so it is shown as text.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from tiptriage.i18n import N_, _, refusal
from tiptriage.safetext import safe_cell  # shared: every CSV that leaves the system

COLUMNS = (N_("Item"), N_("Day"), N_("Area"), N_("What"), N_("Name"), N_("Date of birth"), N_("Address"),
           N_("Legal text"), N_("Referral"))
# What is delivered, and the texts the officers hand over; user text, so in the reader's language.
WHAT = {"warning": N_("Official police warning: hand over the letter and explain it"),
        "search": N_("Search and seizure: the public prosecutor's authorisation; seize data carriers")}
LEGAL_TEXT = N_("Official police warning. The police know that images of the sexual abuse of children were "
                "downloaded or kept through your account or internet connection. Possessing, viewing or "
                "downloading such images is a criminal offence (article 240b of the Dutch Criminal Code, up to "
                "four years' imprisonment). This time you receive an official warning instead of a criminal "
                "investigation. The warning is registered for five years: if you are reported again, a criminal "
                "investigation follows and a heavier penalty applies.")
REFERRAL = N_("Stop it Now! gives anonymous and free help to people worried about their sexual feelings or "
              "behaviour towards children, and to those close to them: www.stopitnow.nl (telephone, chat "
              "and e-mail).")


class WorklistError(ValueError):
    """A work list that cannot be written where asked."""


def row_texts(item: dict) -> list[str]:
    """One item as the work list's columns, in the reader's language."""
    warning = item["kind"] == "warning"
    return [str(item["item_id"]), item["day"].isoformat() if item["day"] else "", item["area"] or "",
            _(WHAT[item["kind"]]), item["name"], item["date_of_birth"] or "", item["address"],
            _(LEGAL_TEXT) if warning else "", _(REFERRAL) if warning else ""]


def as_csv(items: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_(c) for c in COLUMNS])
    for item in items:
        writer.writerow([safe_cell(v) for v in row_texts(item)])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheets read it as UTF-8


def as_pdf(week: dict, unit: str, items: list[dict]) -> bytes:
    """The printable list: a page per day, an item per block with the texts to hand over."""
    from weasyprint import HTML  # imported when a PDF is made: it loads Pango

    env = Environment(loader=PackageLoader("tiptriage.operations", "."), autoescape=select_autoescape(["html"]))
    env.globals.update(_=_)
    days: dict[str, list[dict]] = {}
    for item in items:
        days.setdefault(item["day"].isoformat() if item["day"] else "", []).append(item)
    html = env.get_template("worklist.html").render(week=week, unit=unit, days=days, what=WHAT,
                                                    legal=_(LEGAL_TEXT), referral=_(REFERRAL))
    return HTML(string=html).write_pdf()


def write_private(path: Path, data: bytes) -> Path:
    """Write a new file only its owner may read; an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise refusal(WorklistError, "{path} exists already: a work list is never written over another file",
                      path=str(path)) from None
    except OSError as exc:
        raise refusal(WorklistError, "{path} cannot be written: {error}", path=str(path), error=exc.strerror) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path
