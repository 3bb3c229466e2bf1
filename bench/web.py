"""Web benchmark: the server time of the pages people use all day, on stores of 1k and 100k
generated reports (target: the 100k figures within 2x of the 1k figures).

    .venv/bin/python bench/web.py                    # 1,000 and 100,000 reports, SQLite
    .venv/bin/python bench/web.py --sizes 1000 20000

Each store is made once (cached under var/bench/web-N/) the way a unit fills one: `tiptriage synth`,
its two hash banks imported, the reports through `pipeline.process` (what `tiptriage ingest` does).
Then, in one process per store, the application answers requests in-process (FastAPI's TestClient,
logged in as an analyst of every unit): each page REQUESTS times after WARMUP, median and 95th
percentile of the wall time per request; two REST API calls (the queue and a report, with a bearer
token of scope `read`) are timed the same way. Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
REQUESTS, WARMUP = 40, 5
PASSWORD = "bench-wachtwoord"


def build(n: int) -> Path:
    """The store for N reports, made once."""
    folder = WORK / f"web-{n}"
    db = folder / "tiptriage.db"
    if db.exists():
        return folder
    from tiptriage.synth.generator import generate

    data = folder / "data"
    generate(data, reports=n, seed=13)
    env = _env(folder)
    os.environ.update(env)
    from tiptriage import config, pipeline
    from tiptriage.accounts import users
    from tiptriage.accounts.actor import Actor
    from tiptriage.db import open_session
    from tiptriage.media import service as media

    config.get_settings.cache_clear()
    admin = Actor("bench")
    started = time.perf_counter()
    with open_session(create=True) as s:
        media.import_bank(s, data / "banks" / "vics.json", name="vics", fmt="vics", actor=admin, checkpoint=s.commit)
        media.import_bank(s, data / "banks" / "known.csv", name="nl-known", fmt="csv", actor=admin,
                          category_map={"A1": "child_abuse", "A2": "child_abuse", "B1": "child_abuse",
                                        "B2": "child_abuse", "NP": "non_pertinent"}, checkpoint=s.commit)
        pipeline.process(s, [data / "reports"], actor=admin)
        users.add_user(s, "bench-analyst", display_name="Bench", password=PASSWORD, roles=["analyst"], units=[],
                       actor=admin)
        s.commit()
    print(f"  store of {n:,} reports made in {time.perf_counter() - started:,.0f} s", file=sys.stderr)
    return folder


def _env(folder: Path) -> dict[str, str]:
    tables = folder / "data" / "tables"
    return {"TIPTRIAGE_DATABASE_URL": f"sqlite:///{folder / 'tiptriage.db'}",
            "TIPTRIAGE_IP_COUNTRIES_FILE": str(tables / "ip_countries.csv"),
            "TIPTRIAGE_SERVICES_FILE": str(tables / "services.csv"),
            "TIPTRIAGE_WEB_SECRET_FILE": str(folder / "web-secret.key"),
            "TIPTRIAGE_PDQ_INDEX_DIR": str(folder / "pdq-index")}


def measure(folder: Path) -> dict[str, dict[str, float]]:
    """Run in the store's own process: median and p95 milliseconds per page."""
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from tiptriage.accounts import tokens
    from tiptriage.accounts.actor import Actor
    from tiptriage.db import open_session
    from tiptriage.intake.models import Report
    from tiptriage.subjects.models import SubjectMember
    from tiptriage.web.app import create_app

    with open_session() as s:
        count = s.execute(select(func.count()).select_from(Report)).scalar_one()
        report_id = s.execute(select(Report.id).order_by(Report.id).offset(count // 2).limit(1)).scalar_one()
        subject_id = s.execute(select(SubjectMember.subject_id).where(SubjectMember.report_id == report_id)
                               .limit(1)).scalar_one()
        bearer, _ = tokens.issue(s, f"bench-{time.time_ns()}", for_user="bench-analyst", scopes=["read"],
                                 actor=Actor("bench"))
        s.commit()
    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"user_id": "bench-analyst", "password": PASSWORD, "csrf": token})
    pages = {"queue": "/queue", "queue, WARNING page 3": "/queue?outcome=WARNING&page=3",
             "queue, rows only (htmx)": "/queue?status=open", "report": f"/reports/{report_id}",
             "subject": f"/subjects/{subject_id}", "alerts": "/alerts",
             "API queue": "/api/v1/queue", "API report": f"/api/v1/reports/{report_id}"}
    out = {}
    for name, path in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in name else {}
        if name.startswith("API"):  # a service account: the token, no session cookie
            headers = {"Authorization": f"Bearer {bearer}"}
        times = []
        for i in range(WARMUP + REQUESTS):
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200, (path, answer.status_code)
            if i >= WARMUP:
                times.append(elapsed)
        times.sort()
        out[name] = {"median_ms": round(statistics.median(times), 1),
                     "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one store, in its own process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return
    results = {}
    for n in args.sizes:
        folder = build(n)
        run = subprocess.run([sys.executable, __file__, "--measure", str(folder)], capture_output=True, text=True,
                             env=os.environ | _env(folder), check=True)
        results[n] = json.loads(run.stdout.strip().splitlines()[-1])
    small, large = min(results), max(results)
    print(f"{'page':<26}" + "".join(f"{f'{n:,} median':>16}{'p95':>8}" for n in sorted(results))
          + f"{'x median':>10}{'x p95':>8}")
    for page in results[small]:
        row = "".join(f"{results[n][page]['median_ms']:>16}{results[n][page]['p95_ms']:>8}" for n in sorted(results))
        ratio = results[large][page]["median_ms"] / results[small][page]["median_ms"]
        ratio95 = results[large][page]["p95_ms"] / results[small][page]["p95_ms"]
        print(f"{page:<26}{row}{ratio:>10.2f}{ratio95:>8.2f}")
    print(f"(milliseconds per request, in-process; target: {large:,} within 2x of {small:,})")


if __name__ == "__main__":
    main()
