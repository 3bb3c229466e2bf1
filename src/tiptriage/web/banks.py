"""The banks screen: the hash banks with their versions and categories (for analysts, team leads and
administrators), and the import of a bank file (administrators), through the media service that
`tiptriage bank import` uses. A refused file is shown on the page with where and why, each
problem once, and the bank stays as it was."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy.orm import Session

from tiptriage import hashtypes
from tiptriage.accounts.actor import Actor, may
from tiptriage.i18n import message, refusal
from tiptriage.media import service as media
from tiptriage.media.banks import BankFormatError, category_map
from tiptriage.media.models import BANK_FORMATS, CATEGORIES
from tiptriage.web.auth import checked_csrf, current_actor, work
from tiptriage.web.pages import page
from tiptriage.web.uploads import import_bank_upload

router = APIRouter()


def import_settings(fmt: str, mapping: str | list[str], default_category: str, hash_type: str) -> dict:
    """The import's settings from a form or an API call, checked as the CLI's options are: a format
    and hash type of ours, CODE=CATEGORY pairs (one a line, or separated by commas or spaces)."""
    kind = hashtypes.named(hash_type) if hash_type else None  # any spelling a bank file may use
    if fmt and fmt not in BANK_FORMATS or hash_type and kind is None:
        raise refusal(ValueError, "Unknown format or hash type.")
    pairs = re.split(r"[\s,]+", mapping) if isinstance(mapping, str) else mapping
    return {"fmt": fmt or None, "category_map": category_map([p for p in pairs if p.strip()]),
            "default_category": default_category or None, "hash_type": kind.name if kind else None}


def _banks_page(request: Request, session: Session, actor: Actor, *, status_code: int = 200, **context):
    banks = media.list_banks(session, actor=actor)
    return page(request, session, actor, "banks.html",
                {"banks": banks, "formats": BANK_FORMATS, "categories": CATEGORIES, "hash_types": hashtypes.NAMES,
                 "may_import": may(actor, "import_bank"), "form": {}, "result": None, "problems": None,
                 "refused": None, **context}, status_code=status_code)


@router.get("/banks")
def banks(request: Request, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    return _banks_page(request, session, actor)


@router.get("/banks/{name}")
def bank(request: Request, name: str, session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    doc = media.bank_detail(session, name, actor=actor)
    if doc is None:
        raise LookupError(name)
    return page(request, session, actor, "bank.html", {"bank": doc})


@router.post("/banks", dependencies=[Depends(checked_csrf)])
def import_bank(request: Request, file: UploadFile = File(...), name: str = Form(...), fmt: str = Form(""),
                mapping: str = Form(""), default_category: str = Form(""), hash_type: str = Form(""),
                session: Session = Depends(work), actor: Actor = Depends(current_actor)):
    """A bank file as the bank's next version. A refusal is shown above the form, which keeps what
    was typed; the refusal is in the audit log (`bank.import.refused`)."""
    form = {"name": name, "fmt": fmt, "mapping": mapping, "default_category": default_category,
            "hash_type": hash_type}
    try:
        if not name.strip():
            raise refusal(ValueError, "A bank needs a name.")
        result = import_bank_upload(session, file, name=name.strip(), actor=actor,
                                    **import_settings(fmt, mapping, default_category, hash_type))
    except BankFormatError as exc:
        return _banks_page(request, session, actor, status_code=400, form=form, problems=exc,
                           refused=file.filename)
    except ValueError as exc:
        return _banks_page(request, session, actor, status_code=400, form=form, refused=file.filename,
                           reason=message(exc))
    return _banks_page(request, session, actor, result=result)
