"""The banks screen: an administrator imports a bank file (its own category codes mapped to ours)
and sees the new version; a bad file is refused on the page in Dutch with where and why, each
problem once, and the bank is unchanged; analysts read, others are refused; the API does the same
within a token's scopes."""

from __future__ import annotations

from media import bankfiles
from sqlalchemy import func, select

from tiptriage.accounts import tokens
from tiptriage.audit.models import AuditEvent
from tiptriage.db import open_session
from tiptriage.media.models import BankEntry
from web.conftest import ADMIN, csrf_of, login


def _upload(client, name: str, data: bytes, filename: str = "lijst.csv", **form):
    return client.post("/banks", data={"csrf": csrf_of(client), "name": name, **form},
                       files={"file": (filename, data, "text/csv")})


def _entries() -> int:
    with open_session() as s:
        return s.execute(select(func.count()).select_from(BankEntry)).scalar_one()


def test_an_administrator_imports_a_bank_with_its_own_codes_and_sees_its_versions(client, store):
    login(client, "adam")
    listed = client.get("/banks")
    assert listed.status_code == 200 and "Banken" in listed.text and 'href="/banks/known"' in listed.text
    assert "kindermisbruik" in listed.text  # the known bank's entries by category, in Dutch
    rows = [("md5", bankfiles.md5(), "A", ""), ("md5", bankfiles.md5(), "B", ""), ("sha1", bankfiles.sha1(), "A", "")]
    answer = _upload(client, "nationaal", bankfiles.csv(rows), mapping="A=child_abuse\nB=exploitive")
    assert answer.status_code == 200 and "Bank nationaal, versie 1" in answer.text
    shown = client.get("/banks/nationaal")
    assert shown.status_code == 200 and "lijst.csv" in shown.text and "adam" in shown.text
    assert "<dt>B</dt><dd>uitbuitend (grensgeval)</dd>" in shown.text  # the bank's code and ours, in Dutch
    again = _upload(client, "nationaal", bankfiles.csv(rows[:1]), filename="lijst-2.csv", mapping="A=child_abuse")
    assert "Bank nationaal, versie 2" in again.text and "Verwijderd: 2" in again.text
    versions = client.get("/banks/nationaal").text.split("Versies")[1]
    assert versions.index("lijst-2.csv") < versions.index("lijst.csv")  # both versions, newest first


def test_a_bad_bank_file_is_refused_on_the_page_in_dutch_each_problem_once(client, store):
    login(client, "adam")
    before = _entries()
    rows = [("md5", bankfiles.md5(), "X9", "") for _ in range(300)] + [("md5", "123", "child_abuse", "")]
    answer = _upload(client, "known", bankfiles.csv(rows), filename="export.csv")
    assert answer.status_code == 400
    text = answer.text
    assert "Bankbestand export.csv geweigerd; de bank is ongewijzigd" in text
    assert text.count("heeft geen toewijzing") == 1 and "nog 299" in text  # once, not 300 times
    assert "ongeldige md5-hash" in text and ">302<" in text and ">category<" in text  # line and field
    assert _entries() == before
    with open_session() as s:
        refused = s.execute(select(AuditEvent).where(AuditEvent.action == "bank.import.refused")).scalars().all()
    assert len(refused) == 1 and refused[0].details["source_name"] == "export.csv"
    unknown = _upload(client, "known", bankfiles.csv(rows[:1]), mapping="X9=heel_erg")
    assert unknown.status_code == 400 and "heel_erg" in unknown.text and _entries() == before
    assert 'value="X9=heel_erg"' in unknown.text or "X9=heel_erg</textarea>" in unknown.text  # the form kept it


def test_analysts_read_the_banks_only_and_others_are_refused(client, store):
    data = bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")])
    login(client, "anna")
    page = client.get("/banks")
    assert page.status_code == 200 and 'action="/banks"' not in page.text and 'href="/banks"' in page.text
    assert _upload(client, "known", data).status_code == 403
    login(client, "cor")
    assert client.get("/banks").status_code == 403 and 'href="/banks"' not in client.get("/queue").text
    login(client, "adam")
    assert client.post("/banks", data={"name": "x"}, files={"file": ("a.csv", data)}).status_code == 400  # no token


def _token(uid: str, *scopes: str) -> dict:
    with open_session() as s:
        token, _ = tokens.issue(s, f"test {uid}", for_user=uid, scopes=list(scopes), actor=ADMIN)
        s.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_banks_and_imports_within_the_token_scope_and_the_role(client, store):
    analyst = _token("anna", "read", "import_bank")
    assert [b["name"] for b in client.get("/api/v1/banks", headers=analyst).json()] == ["known"]
    assert client.get("/api/v1/banks/known", headers=analyst).json()["versions"][0]["imported_by"] == "test"
    data = bankfiles.csv([("md5", bankfiles.md5(), "K1", "")])
    files = {"file": ("k.csv", data, "text/csv")}
    assert client.post("/api/v1/banks/feed/import", files=files, headers=analyst).status_code == 403  # the role
    read_only = _token("adam", "read")
    assert client.post("/api/v1/banks/feed/import", files=files, headers=read_only).status_code == 403  # the scope
    admin = _token("adam", "import_bank")
    refused = client.post("/api/v1/banks/feed/import", files=files, headers=admin)
    assert refused.status_code == 422 and refused.json()["problems"][0]["line"] == 2
    done = client.post("/api/v1/banks/feed/import", files=files, data={"map": ["K1=child_abuse"]}, headers=admin)
    assert done.status_code == 200 and (done.json()["version"], done.json()["entries"]) == (1, 1)
    assert "/api/v1/banks/{name}/import" in client.get("/api/openapi.json").json()["paths"]


def test_the_upload_lives_in_a_folder_only_its_owner_may_read_and_is_gone_after(client, store, monkeypatch):
    import stat

    from tiptriage.media import service

    seen = {}
    real = service.import_bank

    def spy(session, path, **kw):
        seen["path"], seen["mode"] = path, stat.S_IMODE(path.parent.stat().st_mode)
        return real(session, path, **kw)

    monkeypatch.setattr(service, "import_bank", spy)
    login(client, "adam")
    assert _upload(client, "los", bankfiles.csv([("md5", bankfiles.md5(), "child_abuse", "")]),
                   filename="../../etc/lijst.csv").status_code == 200
    assert seen["path"].name == "lijst.csv" and seen["mode"] == 0o700  # the name only, never a path
    assert not seen["path"].parent.exists()
