"""Exports at scale: 100,000 registrations and their check-ins, exported in every format.

Fills a fresh database (a SQLite file, or with `--db postgresql` the database at DATABASE_URL
when it is empty, else a throwaway PostgreSQL server it starts and stops) with a family tour
whose sessions hold `--rows` registrations (two questions, an ID number for a third of them),
~70% of them admitted at the entrance through the day, walk-ins and tallies, plus a small
campaign of 48 events across the 16 districts. Rows go in with bulk inserts.

Then measures, each in a fresh child process (`python benchmarks/exports.py --measure …`):
the event report as CSV, XLSX and PDF; the registrant list as CSV and XLSX; the campaign
dashboard's figures and its XLSX; and a bare `SELECT` dump of the registrant rows (the same
SQL, a raw DB-API cursor, csv.writer, no masking or formatting) as the baseline. Each export
goes through services.exports.export, as a download does, and is written to a file.

For each it prints the wall time, the ratio to the bare dump, and memory two ways: the child's
peak resident set (VmHWM from /proc: the whole process, interpreter, app and export; not
ru_maxrss, which Linux carries over from the parent through fork and exec) with its growth over
the resident set just before the measured run, and tracemalloc's peak of Python allocations
during a third, traced run (`--no-tracemalloc` skips it; tracing slows the code, so the times
come from the untraced run). Each child runs its export once to warm up (imports, fonts, the
connection) before the measured run.

    python benchmarks/exports.py [--db sqlite|postgresql] [--rows 100000] [--no-tracemalloc]

Targets: CSV within 2x the bare dump, XLSX and the dashboard in a few seconds (5 s here), peak
memory under 150 MB (the child's whole resident set). Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from common import ROOT, databases, machine

TARGET_CSV_RATIO = 2.0
TARGET_SECONDS = 5.0
TARGET_MB = 150.0
BATCH = 10_000
SESSIONS = 10
MAX_PARTY = 4
CAMPAIGN_EVENTS = 48

# name: (what, format) — "bare" and "dashboard" are measured by hand
MEASUREMENTS = {
    "bare SELECT dump (baseline)": ("bare", ""),
    "report CSV": ("report", "csv"),
    "report XLSX": ("report", "xlsx"),
    "report PDF": ("report", "pdf"),
    "registrants CSV": ("registrants", "csv"),
    "registrants XLSX": ("registrants", "xlsx"),
    "dashboard figures": ("dashboard", ""),
    "dashboard XLSX": ("dashboard", "xlsx"),
}


def main() -> int:
    args = parse_args()
    if args.measure:
        return measure_in_child(args)
    print(f"exports: {args.rows} registrations on {args.db}, {machine()}")
    with database(args.db) as url:
        instance = Path(tempfile.mkdtemp(prefix="qmevents-exports-"))
        began = time.perf_counter()
        event_id = fill(url, instance, args.rows, args.seed)
        print(f"  filled in {time.perf_counter() - began:.1f} s")
        results = {name: run_child(name, url, instance, event_id, args)
                   for name in MEASUREMENTS}
    return report(results)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000,
                        help="registrations of the exported event (e.g. 10000 for a smoke run)")
    parser.add_argument("--seed", type=int, default=927)
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    # internal: one measurement in a child process
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--event", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


class database:  # noqa: N801 (a context manager, used like a function)
    """A fresh database URL: DATABASE_URL for PostgreSQL when it points at an empty database,
    otherwise a new one from common.databases (SQLite file or throwaway server)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.owned = None

    def __enter__(self) -> str:
        given = os.environ.get("DATABASE_URL", "")
        if self.kind == "postgresql" and given.startswith("postgresql") and _empty(given):
            print("  database: DATABASE_URL (empty, so filled here)")
            return given
        self.owned = databases(self.kind)
        print("  database: " + ("a throwaway PostgreSQL server" if self.kind == "postgresql"
                                else "a new SQLite file"))
        return self.owned.__enter__()("qmevents_exports")

    def __exit__(self, *exc) -> None:
        if self.owned is not None:
            self.owned.__exit__(*exc)


def _empty(url: str) -> bool:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _app(url: str, instance: Path):
    os.environ["QMEVENTS_INSTANCE"] = str(instance)
    from qmevents import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret"})


# --- filling the database -----------------------------------------------------------------------


def fill(url: str, instance: Path, rows: int, seed: int) -> int:
    """Tables, an admin, the big family tour with `rows` registrations and their check-ins,
    and a small campaign around it. Returns the big event's id."""
    from qmevents.extensions import db
    from qmevents.models import ensure_districts
    from qmevents.services import accounts

    rng = random.Random(seed)
    app = _app(url, instance)
    with app.app_context():
        db.create_all()
        ensure_districts()
        accounts.create_user("admin@example.cn", "bench-password", "admin", None, None)
        event_id = _big_event(rows, rng)
        _campaign(max(rows // 10, CAMPAIGN_EVENTS), rng)
        db.session.remove()
        db.engine.dispose()
    return event_id


def _event(org_name: str, district: str, title: str, kind: str, start, sessions: int,
           capacity: int, checkpoints: list[str], tallies: list[str]):
    """A published event whose sessions begin at `start`, two hours each, one after the
    other. Created in the future (as the form insists), then moved to `start`, which may be
    past: the door has been open."""
    from qmevents.extensions import db
    from qmevents.services import accounts, events
    from qmevents.timeutil import utcnow

    org = accounts.find_or_create_organisation(org_name, district)
    db.session.commit()
    later = (utcnow() + timedelta(days=30)).replace(second=0, microsecond=0)
    draft = events.EventDraft(
        title=title, kind=kind, district=district, venue="上海电气展示中心",
        max_party_size=MAX_PARTY, checkpoints=checkpoints, tallies=tallies,
        sessions=[events.SessionDraft(starts_at=later + timedelta(hours=2 * i),
                                      ends_at=later + timedelta(hours=2 * i + 2),
                                      capacity=capacity, label=f"第{i + 1}场")
                  for i in range(sessions)])
    event = events.create_event(org.id, draft, publish=True)
    for i, session in enumerate(sorted(event.sessions, key=lambda s: s.starts_at)):
        session.starts_at = start + timedelta(hours=2 * i)
        session.ends_at = start + timedelta(hours=2 * i + 2)
    db.session.commit()
    return event


def _big_event(rows: int, rng: random.Random) -> int:
    from qmevents.extensions import db
    from qmevents.models import Event
    from qmevents.services.registrations.questions import QuestionDraft, set_questions
    from qmevents.timeutil import utcnow

    start = (utcnow() - timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    per_session = -(-rows // SESSIONS)
    event = _event("杨浦区市场监督管理局", "杨浦区", "杨浦区家庭质量探寻之旅", "family_tour", start,
                   SESSIONS, min(per_session * MAX_PARTY, 100_000), ["入口", "质量展厅"],
                   ["资料发放", "血压测量"])
    set_questions(event, [QuestionDraft(label="身份证号码", kind="id_card", required=False),
                          QuestionDraft(label="工作单位", kind="text", required=False)])
    event = db.session.get(Event, event.id)
    _registrations(event, rows, rng, [q.id for q in event.questions])
    return event.id


def _campaign(rows: int, rng: random.Random) -> None:
    """48 events, three per district, sharing `rows` registrations: the dashboard's lines."""
    from qmevents.models import SHANGHAI_DISTRICTS
    from qmevents.timeutil import utcnow

    start = (utcnow() - timedelta(days=20)).replace(hour=2, minute=0, second=0, microsecond=0)
    kinds = ["open_day", "consultation", "lecture"]
    for i in range(CAMPAIGN_EVENTS):
        district = SHANGHAI_DISTRICTS[i % 16][0]
        event = _event(f"{district}市场监督管理局", district, f"{district}质量月活动{i + 1}",
                       kinds[i % 3], start + timedelta(days=i % 18), 1, 1000, ["入口"], ["咨询"])
        _registrations(event, rows // CAMPAIGN_EVENTS, rng, [])


def _registrations(event, rows: int, rng: random.Random, questions: list[int]) -> None:
    """`rows` confirmed registrations spread over the event's sessions, their answers, ~70%
    admitted at the entrance through the session, walk-ins, and the tallies counted."""
    from sqlalchemy import insert, select, update

    from qmevents.extensions import db
    from qmevents.models import (
        Admission,
        AdmissionKind,
        Answer,
        EventSession,
        Registration,
        RegistrationStatus,
        Tally,
    )

    sessions = list(event.sessions)
    entrance = event.checkpoints[0].id
    first_id = (db.session.scalar(select(Registration.id).order_by(Registration.id.desc())
                                  .limit(1)) or 0) + 1
    ids = iter(range(first_id, first_id + rows))
    taken = {s.id: 0 for s in sessions}
    for begin in range(0, rows, BATCH):
        people, answers, admissions = [], [], []
        for n in range(begin, min(begin + BATCH, rows)):
            rid = next(ids)
            session = sessions[n % len(sessions)]
            size = rng.randint(1, MAX_PARTY)
            taken[session.id] += size
            came = size if rng.random() < 0.7 else 0
            at = session.starts_at - timedelta(days=3, minutes=rng.randint(0, 20000))
            people.append({
                "id": rid, "code": f"B{event.id:05d}{rid:014d}", "event_id": event.id,
                "session_id": session.id, "name": rng.choice(["张伟", "李娜", "王芳", "刘洋"]),
                "phone": f"139{rid:08d}", "party_size": size,
                "status": RegistrationStatus.CONFIRMED, "source": "web", "consent_at": at,
                "created_at": at, "updated_at": at, "admitted_people": came})
            if questions:
                answers.append({"registration_id": rid, "question_id": questions[1],
                                "value": rng.choice(["上海电气", "宝钢", "复旦大学", "退休"])})
                if n % 3 == 0:
                    answers.append({"registration_id": rid, "question_id": questions[0],
                                    "value": "11010519491231002X"})
            if came:
                admissions.append({
                    "event_id": event.id, "session_id": session.id, "checkpoint_id": entrance,
                    "registration_id": rid, "kind": AdmissionKind.ENTRY, "people": came,
                    "at": session.starts_at + timedelta(seconds=rng.randint(0, 7000))})
        db.session.execute(insert(Registration), people)
        if answers:
            db.session.execute(insert(Answer), answers)
        if admissions:
            db.session.execute(insert(Admission), admissions)
        db.session.commit()
    walk_ins = [{"event_id": event.id, "session_id": s.id, "checkpoint_id": entrance,
                 "registration_id": None, "kind": AdmissionKind.WALK_IN,
                 "people": rng.randint(1, 3), "at": s.starts_at + timedelta(minutes=10 + i)}
                for s in sessions for i in range(max(rows // 200 // len(sessions), 1))]
    db.session.execute(insert(Admission), walk_ins)
    for session_id, n in taken.items():
        db.session.execute(update(EventSession).where(EventSession.id == session_id)
                           .values(places_taken=n))
    db.session.execute(update(Tally).where(Tally.event_id == event.id)
                       .values(count=max(rows // 7, 1)))
    db.session.commit()


# --- one measurement, in a child process of its own ---------------------------------------------


def run_child(name: str, url: str, instance: Path, event_id: int,
              args: argparse.Namespace) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", name, "--url", url,
               "--instance", str(instance), "--event", str(event_id)]
    if not args.tracemalloc:
        command.append("--no-tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"measuring {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (its peak) of this process, from /proc. Not ru_maxrss:
    Linux carries the parent's peak over fork and exec into a child's ru_maxrss."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_in_child(args: argparse.Namespace) -> int:
    what, fmt = MEASUREMENTS[args.measure]
    app = _app(args.url, Path(args.instance))
    with app.test_request_context("/"):
        job = _job(what, fmt, args.event)
        job()  # warm: imports, fonts, the connection, compiled statements
        before = _status_mb("VmRSS")
        began = time.perf_counter()
        size = job()
        seconds = time.perf_counter() - began
        peak = _status_mb("VmHWM")
        traced = None
        if args.tracemalloc:
            tracemalloc.start()
            job()
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "rss_before": before, "rss_peak": peak,
                      "traced": traced, "bytes": size}))
    return 0


def _job(what: str, fmt: str, event_id: int):
    """A function that runs the measurement once and returns the bytes written."""
    from qmevents.extensions import db
    from qmevents.models import User
    from qmevents.services import exports
    from qmevents.services.reporting import dashboards

    admin = db.session.scalar(db.select(User).filter_by(email="admin@example.cn"))
    out = Path(tempfile.mkdtemp(prefix="qmevents-export-out-")) / "export"

    def export() -> int:
        request = exports.ExportRequest(exports.What(what), fmt, event_id=event_id,
                                        filter=dashboards.DashboardFilter())
        file = exports.export(admin, request)
        with open(out, "wb") as f:
            for chunk in file.chunks:
                f.write(chunk)
        return out.stat().st_size

    def figures() -> int:
        board = dashboards.dashboard(dashboards.DashboardFilter())
        db.session.rollback()
        return len(board.by_district) + len(board.by_organisation)

    def bare() -> int:
        from qmevents.services.exports.data import registrant_query

        sql = registrant_query(event_id).compile(
            dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(str(sql))
            with open(out, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(cursor)
            cursor.close()
        finally:
            connection.close()
        return out.stat().st_size

    return {"bare": bare, "dashboard": export if fmt else figures}.get(what, export)


# --- the table ----------------------------------------------------------------------------------


def report(results: dict[str, dict]) -> int:
    bare = results["bare SELECT dump (baseline)"]["seconds"]
    header = ["", "seconds", "x bare", "peak RSS MB", "growth MB", "traced MB", "file MB"]
    rows = []
    for name, r in results.items():
        traced = "-" if r["traced"] is None else f"{r['traced']:.1f}"
        rows.append([name, f"{r['seconds']:.2f}", f"{r['seconds'] / bare:.2f}",
                     f"{r['rss_peak']:.0f}", f"{r['rss_peak'] - r['rss_before']:.0f}", traced,
                     f"{r['bytes'] / 2**20:.1f}" if r["bytes"] > 1000 else "-"])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print("\n  (each row a fresh child process; times untraced; peak RSS = VmHWM of the whole "
          "child; traced = tracemalloc peak)")
    for row in [header, *rows]:
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    checks = [
        ("CSV within 2x the bare dump",
         all(results[n]["seconds"] <= TARGET_CSV_RATIO * bare
             for n in ("report CSV", "registrants CSV"))),
        (f"XLSX and dashboard under {TARGET_SECONDS:.0f} s",
         all(results[n]["seconds"] <= TARGET_SECONDS
             for n in ("report XLSX", "registrants XLSX", "dashboard figures",
                       "dashboard XLSX"))),
        (f"peak memory under {TARGET_MB:.0f} MB",
         all(r["rss_peak"] <= TARGET_MB for r in results.values())),
    ]
    for label, ok in checks:
        print(f"  {label}: {'met' if ok else 'NOT met'}")
    return 0 if all(ok for _label, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
