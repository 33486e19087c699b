"""Where the time of each hot path goes: CPU per request, and under cProfile the share of it by
area (SQL building and the ORM, the database driver, templates, i18n, forms, Werkzeug and Flask,
hashing, QR drawing, compression, our own code).

In the app's own process (`qmevents.create_app`, rate limits off), real views and real SQL on a
fresh database (a SQLite file, or a database on a throwaway PostgreSQL server) holding the demo
programme (`flask --app wsgi demo`: its 22 events, accounts and last year's edition), an open day
to register for and a door with tickets to scan. Requests are built with Werkzeug's test
EnvironBuilder (what Flask's test client uses) before the clock starts; the clock runs while the
app answers them as a WSGI server would call it (benchmarks/profiling.py). Each hot path gets
`--warmup` requests, then `--requests` measured bare (CPU: `time.process_time`; wall clock), then
as many again under cProfile, on its own fast clock: wall time, so on PostgreSQL the driver's
share holds the wait for the server's answer. (With the process's CPU clock as its timer every
profiled call costs ten times the work instead of two or three, and the shares tilt towards code
made of many small calls, such as templates.) On a busy machine preemption lands anywhere, so the
shares stay fair but get noisy: run it on a quiet one.

- the public event list `GET /` and `GET /?lang=en`, and the event page `GET /events/<id>`, with
  a phone's `Accept-Encoding`: when the code has the render cache (PAGE_CACHE_SECONDS), served
  from it ("cache hit": an hour's lifetime, so that every measured request is a hit) and
  rendered (PAGE_CACHE_SECONDS=0); else rendered;
- the ticket page `GET /t/<code>` (its QR drawn as SVG);
- a registration with phone verification through the API: `POST /api/v1/phone-codes`, then
  `POST /api/v1/events/<id>/registrations` with the code, one step, a new phone each. Messages go
  to the `outbox` backend (the table an admin reads, nothing sent) and are delivered inside the
  request (NOTIFY_IN_BACKGROUND off) so that their SQL is profiled; in production the same work
  runs on a background thread of the same worker. Reading the code off the outbox is not counted;
- door check-in `POST /api/v1/checkins` with a device's bearer token: a fresh ticket each, and
  the re-scan of a ticket already in.

    python benchmarks/hot_paths.py [--db sqlite|postgresql|both] [--requests 300] [--warmup 20]
                                 [--top [5]]

Prints one Markdown table per database: CPU ms per request in this process, wall ms, the
PostgreSQL server's CPU ms per request, how much slower the profiled requests ran, then the shares
in % of the profiled time (benchmarks/profiling.py says how a function's time finds its area).
`--top N` adds per path the N functions with the most cumulative time below the request plumbing
(Werkzeug's, Flask's and the decorators' own frames are skipped). Exits 1 when a request got an
answer it should not.
"""
from __future__ import annotations

import sys
from pathlib import Path

# This file shares its name with the standard library's `profile`, which cProfile imports: the
# benchmarks folder must not stand first on the path when it does.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from benchmarks.common import (  # noqa: E402
    DB_KINDS,
    databases,
    machine,
    markdown_table,
    postmaster,
    tree_cpu,
)
from benchmarks.profiling import AREAS, Meter, Wsgi, shares, top  # noqa: E402

PHONE = {"Accept-Encoding": "gzip, deflate, br",
         "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger"}
TICKET_HOST = "https://zlj.example.gov.cn"
CACHE_SECONDS = 3600.0  # the cache-hit rows: no entry expires during the run


# --- measuring ----------------------------------------------------------------------------------


Step = Callable[[int, Meter], str | None]  # request number, meter -> what went wrong, if anything


@dataclass
class Figures:
    name: str
    cpu_ms: float
    wall_ms: float
    server_ms: float | None  # PostgreSQL's own processes
    slowdown: float  # CPU under the profiler / CPU bare
    shares: dict[str, float]
    top: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def measure(name: str, step: Step, args: argparse.Namespace, pg_port: int | None) -> Figures:
    """Warm-up, `--requests` bare, `--requests` profiled; the step numbers never repeat."""
    failures = [f for i in range(args.warmup) if (f := step(i, Meter()))]
    bare = Meter()
    server = tree_cpu(pid) if pg_port and (pid := postmaster(pg_port)) else None
    failures += [f for i in range(args.requests) if (f := step(args.warmup + i, bare))]
    if server is not None:
        server = (tree_cpu(postmaster(pg_port)) - server) * 1000 / args.requests
    profiler = cProfile.Profile()
    profiled = Meter(profiler)
    first = args.warmup + args.requests
    failures += [f for i in range(args.requests) if (f := step(first + i, profiled))]
    stats = pstats.Stats(profiler).stats
    n = args.requests
    return Figures(name, bare.cpu * 1000 / n, bare.wall * 1000 / n, server,
                   profiled.cpu / bare.cpu if bare.cpu else 0.0, shares(stats),
                   top(stats, args.top, n), sorted(set(failures))[:5])


# --- the database -------------------------------------------------------------------------------


@dataclass
class Fixture:
    event_id: int  # a demo event with sessions to come: the event page
    open_event_id: int  # an open day to register for, roomy, phones verified
    open_session_id: int
    door_event_id: int
    door_session_id: int
    door_token: str
    door_codes: list[str]  # confirmed tickets not scanned yet


def make_app(url: str, **config):
    from qmevents import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "profile-secret",
                       "RATELIMIT_ENABLED": False, "NOTIFY_BACKEND": "outbox",
                       "NOTIFY_IN_BACKGROUND": False,
                       # cheap hashes for the demo's 33 accounts; signing in is not profiled
                       "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 64, **config})


def prepare(url: str, tickets: int) -> Fixture:
    """The demo programme, an open day with one roomy session, a door with `tickets` tickets."""
    from sqlalchemy import insert, select, update

    from qmevents.demo.loader import load_demo
    from qmevents.extensions import db
    from qmevents.models import (
        Event,
        EventSession,
        EventStatus,
        Registration,
        RegistrationStatus,
        StaffAssignment,
    )
    from qmevents.services import accounts, events
    from qmevents.services.registrations.codes import new_code
    from qmevents.timeutil import to_local, utcnow

    with make_app(url).app_context():
        db.create_all()
        now = utcnow()
        load_demo(to_local(now).date())
        event_id = db.session.scalar(
            select(Event.id).join(EventSession, EventSession.event_id == Event.id)
            .where(Event.status == EventStatus.PUBLISHED, EventSession.starts_at > now)
            .order_by(EventSession.starts_at).limit(1))
        bureau = "杨浦区市场监督管理局"
        org = accounts.find_or_create_organisation(bureau, "杨浦区")
        db.session.commit()
        start = (now + timedelta(days=7)).replace(second=0, microsecond=0)
        open_day = events.create_event(org.id, events.EventDraft(
            title="上海电气质量开放日", kind="open_day", district="杨浦区",
            venue="上海电气展示中心", verify_phone=True, checkpoints=["入口"],
            sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                          capacity=events.MAX_CAPACITY)]), publish=True)
        door = events.create_event(org.id, events.EventDraft(
            title="杨浦区家庭质量探寻之旅", kind="family_tour", district="杨浦区",
            venue="杨浦滨江", checkpoints=["入口", "质量展厅"],
            sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                          capacity=events.MAX_CAPACITY)]), publish=True)
        fixture = Fixture(event_id, open_day.id, open_day.sessions[0].id, door.id,
                          door.sessions[0].id, "", [new_code() for _ in range(tickets)])
        staff = accounts.create_user("door@example.cn", "Qm-Gate-Scan-5521", "staff", bureau)
        db.session.add(StaffAssignment(user_id=staff.id, event_id=door.id))
        db.session.commit()
        fixture.door_token, _row = accounts.issue_token(staff)
        earlier = now - timedelta(hours=1)
        db.session.execute(insert(Registration), [
            {"code": code, "event_id": door.id, "session_id": fixture.door_session_id,
             "name": "王芳", "phone": f"139{i:08d}", "party_size": 2,
             "status": RegistrationStatus.CONFIRMED, "source": "web", "consent_at": earlier,
             "created_at": earlier, "updated_at": earlier, "admitted_people": 0}
            for i, code in enumerate(fixture.door_codes)])
        # The day of the door's event: its session under way, so the door admits.
        db.session.execute(update(EventSession).where(
            EventSession.id == fixture.door_session_id).values(
            places_taken=2 * tickets, starts_at=now - timedelta(minutes=30),
            ends_at=now + timedelta(hours=3)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return fixture


# --- the hot paths ------------------------------------------------------------------------------


def page(app, path: str, cached: bool | None = None) -> Step:
    """A GET answered 200; `cached`: the answer must (or must not) come from the render cache."""
    server = Wsgi(app)

    def step(_i: int, meter: Meter) -> str | None:
        answer = server(meter, path, headers=PHONE)
        if answer.status != 200:
            return f"{path}: {answer.status}"
        if cached is not None and cached != ("ETag" in answer.headers):
            return f"{path}: {'not ' if cached else ''}from the render cache"
        return None

    return step


def registration(app, fixture: Fixture, codes: list[str]) -> Step:
    """Ask for the code, read it off the outbox (not counted), register with it: one step."""
    from sqlalchemy import select

    from qmevents.extensions import db
    from qmevents.models import Notification, NotificationKind

    server = Wsgi(app)
    path = f"/api/v1/events/{fixture.open_event_id}/registrations"

    def step(i: int, meter: Meter) -> str | None:
        phone = f"137{i:08d}"
        asked = server(meter, "/api/v1/phone-codes", {"phone": phone})
        if asked.status != 202:
            return f"phone-codes: {asked.status}"
        with app.app_context():
            text = db.session.scalar(select(Notification.body).where(
                Notification.recipient == phone,
                Notification.kind == NotificationKind.REGISTRATION_CODE)
                .order_by(Notification.id.desc()).limit(1)) or ""
        found = re.search(r"\d{6}", text)
        if found is None:
            return "no code in the outbox"
        answer = server(meter, path, {
            "session_id": fixture.open_session_id, "name": "王芳", "phone": phone,
            "party_size": 2, "answers": {}, "phone_code": found.group()})
        if answer.status != 201:
            return f"registration: {answer.status} {answer.body[:80]!r}"
        codes.append(answer.json()["code"])
        return None

    return step


def scan(app, fixture: Fixture, fresh: bool) -> Step:
    """A device scans a fresh ticket each time, or re-scans one already in."""
    server = Wsgi(app)
    device = {"Authorization": f"Bearer {fixture.door_token}"}
    again = "" if fresh else fixture.door_codes.pop()
    expected = "admitted" if fresh else "already_admitted"

    def body(code: str) -> dict:
        return {"code": f"{TICKET_HOST}/t/{code}", "event_id": fixture.door_event_id,
                "session_id": fixture.door_session_id}

    if not fresh:
        server(Meter(), "/api/v1/checkins", body(again), device)

    def step(_i: int, meter: Meter) -> str | None:
        code = fixture.door_codes.pop() if fresh else again
        answer = server(meter, "/api/v1/checkins", body(code), device)
        result = answer.json().get("result")
        return None if answer.status == 200 and result == expected else \
            f"check-in: {answer.status} {result}"

    return step


def run_kind(kind: str, args: argparse.Namespace) -> tuple[list[Figures], bool]:
    from sqlalchemy.engine import make_url

    from qmevents.config import Config
    from qmevents.extensions import db

    per_path = args.warmup + 2 * args.requests
    with databases(kind) as new_database:
        url = new_database("qmevents_profile")
        fixture = prepare(url, per_path + 1)
        pg_port = make_url(url).port if kind == "postgresql" else None
        has_cache = hasattr(Config, "PAGE_CACHE_SECONDS")
        app = make_app(url, **({"PAGE_CACHE_SECONDS": CACHE_SECONDS} if has_cache else {}))
        render = make_app(url, PAGE_CACHE_SECONDS=0) if has_cache else app
        codes: list[str] = []
        registering = registration(app, fixture, codes)
        if failed := registering(per_path, Meter()):  # a ticket for the ticket page
            raise SystemExit(f"registering for the ticket page failed: {failed}")
        ticket = codes[0]
        paths: list[tuple[str, Step]] = []
        for label, path in (("event list `GET /`", "/"), ("event list `GET /?lang=en`",
                                                           "/?lang=en"),
                            ("event page `GET /events/<id>`", f"/events/{fixture.event_id}")):
            if has_cache:
                paths.append((f"{label}, cache hit", page(app, path, True)))
            paths.append((f"{label}, render" if has_cache else label,
                          page(render, path, False if has_cache else None)))
        paths += [("ticket page `GET /t/<code>`", page(app, f"/t/{ticket}")),
                  ("register: phone code + registration (API)", registering),
                  ("check-in, fresh ticket", scan(app, fixture, fresh=True)),
                  ("check-in, re-scan", scan(app, fixture, fresh=False))]
        figures = []
        for name, step in paths:
            figures.append(measure(name, step, args, pg_port))
            print(f"  {kind}: {name} measured", file=sys.stderr)
        for made in {app, render}:
            with made.app_context():
                db.engine.dispose()
    return figures, not any(f.failures for f in figures)


def report(kind: str, figures: list[Figures], args: argparse.Namespace) -> None:
    header = ["path", "CPU ms/req", "wall ms/req", "DB server ms/req", "× profiled",
              *(f"{a} %" for a in AREAS)]
    rows = [[f.name, f"{f.cpu_ms:.2f}", f"{f.wall_ms:.2f}",
             "—" if f.server_ms is None else f"{f.server_ms:.2f}", f"{f.slowdown:.1f}",
             *(f"{f.shares[a]:.0f}" for a in AREAS)] for f in figures]
    print(f"\n### {kind}: {args.requests} requests per path after {args.warmup} to warm up, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
    print(markdown_table(header, rows))
    for f in figures:
        if f.top:
            print(f"\n{f.name}: top {len(f.top)} by cumulative time, per request")
            print("\n".join(f"  {line}" for line in f.top))
        for failure in f.failures:
            print(f"  FAILED {f.name}: {failure}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=[*DB_KINDS, "both"], default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--top", type=int, nargs="?", const=5, default=0,
                        help="also list the N functions with the most cumulative time per path")
    args = parser.parse_args()
    args.requests, args.warmup = max(args.requests, 1), max(args.warmup, 0)
    os.environ.pop("DATABASE_URL", None)
    print(f"profile of the hot paths, in process: {machine()}\n{_uptime()}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="qmevents-profile-") as instance:
        os.environ["QMEVENTS_INSTANCE"] = instance
        for kind in DB_KINDS if args.db == "both" else (args.db,):
            figures, sound = run_kind(kind, args)
            report(kind, figures, args)
            ok &= sound
    return 0 if ok else 1


def _uptime() -> str:
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    with open("/proc/uptime") as uptime:
        up = float(uptime.read().split()[0])
    return f"up {timedelta(seconds=int(up))}, load average {load}"


if __name__ == "__main__":
    sys.exit(main())
