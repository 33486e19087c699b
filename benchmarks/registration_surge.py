"""Registration surge: the moment a popular open day's registration opens.

Starts the real app under gunicorn (sync workers) on loopback, fires many concurrent clients at
one session whose capacity is 60% of the people asking, and prints registrations per second,
each registration as a phone makes it for an event that verifies phones (the default): ask for
the code (POST /api/v1/phone-codes), read it off the phone (a stand-in SMS provider on loopback,
common.SmsInbox, which the app texts with its real `sms` backend), register with it;
latency percentiles, confirmed people against capacity, and the same client against a bare
endpoint on the same stack (benchmarks/bare_app.py: one insert per request) in the same run.

    python benchmarks/registration_surge.py [--db sqlite|postgresql|both] [--clients 32]
                                            [--requests 2000] [--seconds 60] [--workers 4]
                                            [--diagnostics]

Exits non-zero when a place was oversold or lost, or a request failed with a 5xx.
Target: at least 0.7 of the bare endpoint's throughput at 32 clients, on both databases.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import (
    DB_KINDS,
    Call,
    Gunicorn,
    Run,
    SmsInbox,
    app_env,
    databases,
    drive,
    machine,
    post,
    print_table,
    publish_open_day,
    qmevents_app,
    row,
    verified,
)

TARGET = 0.7
MAX_PARTY = 4
SHARE_OF_DEMAND = 0.6  # capacity as a share of the people asking: demand exceeds it


@dataclass
class Outcome:
    capacity: int
    places_taken: int
    confirmed_people: int  # party sizes of registrations holding places

    @property
    def sound(self) -> bool:
        return self.places_taken == self.confirmed_people <= self.capacity


def main() -> int:
    args = parse_args()
    kinds = DB_KINDS if args.db == "both" else (args.db,)
    print(f"registration surge: {args.clients} clients, {args.workers} sync gunicorn workers, "
          f"{args.requests} requests (at most {args.seconds:.0f} s each run), {machine()}")
    ok = True
    for kind in kinds:
        ok &= surge(kind, args)
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=[*DB_KINDS, "both"], default="both")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000,
                        help="registrations to send (and as many bare inserts)")
    parser.add_argument("--seconds", type=float, default=60,
                        help="stop a run after this long even if requests remain")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=915)
    parser.add_argument("--diagnostics", action="store_true",
                        help="add two rows that explain the gap: the app with the SMS after "
                             "registering switched off, and a registration reduced to its SQL "
                             "on the bare stack (/bare-claim)")
    return parser.parse_args()


def surge(kind: str, args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    parties = [rng.randint(1, MAX_PARTY) for _ in range(args.requests)]
    with databases(kind) as new_database:
        ours, outcome = run_ours(new_database("qmevents_surge"), "wsgi:app", parties, args)
        quiet = None
        if args.diagnostics:
            quiet, _ = run_ours(new_database("qmevents_quiet"),
                                "benchmarks.common:app_without_messages()", parties, args)
        bare = run_bare(new_database("qmevents_bare"), parties, outcome.capacity, args)
    return report(kind, sum(parties), ours, bare, outcome, quiet)


def bodies(session_id: int, parties: list[int]) -> list[dict]:
    return [{"session_id": session_id, "name": "王芳", "phone": f"139{i:08d}",
             "party_size": size, "answers": {}} for i, size in enumerate(parties)]


def run_ours(url: str, app: str, parties: list[int],
             args: argparse.Namespace) -> tuple[Run, Outcome]:
    """The registrations against the real app, then what the database says about the places."""
    capacity = max(int(sum(parties) * SHARE_OF_DEMAND), 1)
    with tempfile.TemporaryDirectory(prefix="qmevents-surge-") as folder:
        instance = Path(folder)
        event_id, session_id = prepare_ours(url, instance, capacity)
        path = f"/api/v1/events/{event_id}/registrations"
        inbox = SmsInbox()
        env = {**app_env(instance, url), **inbox.env}
        with Gunicorn(app, env, workers=args.workers).start("/api/v1/openapi.json") as server:
            warm_up(server, f"/api/v1/events/{event_id}", args)
            steps = [verified(post("/api/v1/phone-codes", {"phone": b["phone"]}),
                              lambda code, b=b: post(path, {**b, "phone_code": code}),
                              b["phone"], inbox)
                     for b in bodies(session_id, parties)]
            run = drive(server.port, steps, args.clients, args.seconds)
            if run.server_errors:
                print(server.errors(), file=sys.stderr)
        inbox.close()
        return run, count_places(url, instance, session_id, capacity)


@dataclass
class Bare:
    inserts: Run
    ping: Run
    claims: Run | None = None


def run_bare(url: str, parties: list[int], capacity: int, args: argparse.Namespace) -> Bare:
    """The same bodies as plain inserts, then the no-database ceiling of client and server, and
    with --diagnostics the same bodies to /bare-claim against the same capacity."""
    prepare_bare(url, capacity)
    with tempfile.TemporaryDirectory(prefix="qmevents-bare-") as instance, \
            Gunicorn("benchmarks.bare_app:create_app()", app_env(Path(instance), url),
                     workers=args.workers).start("/ping") as server:
        warm_up(server, "/ping", args)

        def send(path: str) -> Run:
            return drive(server.port, [post(path, b) for b in bodies(0, parties)], args.clients,
                         args.seconds)

        bare = Bare(inserts=send("/bare"), ping=drive(
            server.port, [get("/ping")] * len(parties), args.clients, args.seconds))
        if args.diagnostics:
            bare.claims = send("/bare-claim")
        if any(r.server_errors for r in (bare.inserts, bare.claims) if r):
            print(server.errors(), file=sys.stderr)
    return bare


def warm_up(server: Gunicorn, path: str, args: argparse.Namespace) -> None:
    """Every worker answers a few requests first: imports, the connection pool, the caches."""
    drive(server.port, [get(path)] * (args.workers * 8), min(args.clients, args.workers * 2), 30)


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


# --- the databases ------------------------------------------------------------------------------


def prepare_ours(url: str, instance: Path, capacity: int) -> tuple[int, int]:
    """Tables, districts, an organisation and a published open day with one session."""
    from qmevents.extensions import db
    from qmevents.models import ensure_districts

    app = qmevents_app(url, instance)
    with app.app_context():
        db.create_all()
        ensure_districts()
        event = publish_open_day(capacity, MAX_PARTY)
        ids = event.id, event.sessions[0].id
        db.session.remove()
        db.engine.dispose()
    return ids


def prepare_bare(url: str, capacity: int) -> None:
    from bare_app import Slot, create_app, db

    app = create_app(url)
    with app.app_context():
        db.create_all()
        db.session.add(Slot(id=1, capacity=capacity, places_taken=0))
        db.session.commit()
        db.engine.dispose()


def count_places(url: str, instance: Path, session_id: int, capacity: int) -> Outcome:
    from sqlalchemy import func, select

    from qmevents.extensions import db
    from qmevents.models import HOLDS_PLACES, EventSession, Registration

    app = qmevents_app(url, instance)
    with app.app_context():
        taken = db.session.scalar(select(EventSession.places_taken).filter_by(id=session_id))
        held = db.session.scalar(
            select(func.coalesce(func.sum(Registration.party_size), 0))
            .where(Registration.session_id == session_id, Registration.status.in_(HOLDS_PLACES)))
        db.engine.dispose()
    return Outcome(capacity, taken, held)


# --- the report ---------------------------------------------------------------------------------


def report(kind: str, people: int, ours: Run, bare: Bare, outcome: Outcome,
           quiet: Run | None = None) -> bool:
    """Print the table and the checks; True when nothing was oversold or lost and no 5xx."""
    registered = accepted(ours)
    refusals = [json.loads(c.body or b"{}").get("error") for c in ours.calls if c.status == 409]
    full = refusals.count("full")
    inserts = bare.inserts
    ours_rate, bare_rate = ours.rate(registered), inserts.rate()
    rows = [
        row("ours: registered (201), until full", len(registered), ours_rate,
            ours.latencies_ms(registered), ours.server_errors),
        row("ours: every answer (201 + 409)", len(ours.calls), ours.rate(),
            ours.latencies_ms(), ours.server_errors),
        row("bare: one insert per request", len(inserts.calls), bare_rate,
            inserts.latencies_ms(), inserts.server_errors),
        row("client ceiling: GET /ping, no db", len(bare.ping.calls), bare.ping.rate(),
            bare.ping.latencies_ms(), bare.ping.server_errors),
    ]
    diagnostics = [(label, name, run) for label, name, run in (
        ("diagnostic: ours without the SMS step", "ours without the SMS step", quiet),
        ("diagnostic: bare claim (201), until full", "bare claim", bare.claims))
        if run is not None]
    for label, _name, run in diagnostics:
        rows.append(row(label, len(accepted(run)), run.rate(accepted(run)),
                        run.latencies_ms(accepted(run)), run.server_errors))
    print_table(f"{kind}: {len(ours.calls)} registrations sent for {people} people, "
                f"capacity {outcome.capacity}", rows)
    print(f"  answers: {dict(sorted(ours.statuses.items()))}, 409s: {full} full, "
          f"{len(refusals) - full} other")
    exact = outcome.places_taken == outcome.capacity
    print(f"  confirmed people {outcome.confirmed_people} vs capacity {outcome.capacity} "
          f"(places_taken {outcome.places_taken}): "
          + ("oversold!" if outcome.places_taken > outcome.capacity else "no oversell")
          + (", exactly full" if exact else ", NOT full" if full else ", demand not reached"))
    ratio = ours_rate / bare_rate if bare_rate else 0.0
    print(f"  ratio ours/bare: {ratio:.2f} for registrations until full, "
          f"{ours.rate() / bare_rate if bare_rate else 0:.2f} for every answer "
          f"(target {TARGET}: {'met' if ratio >= TARGET else 'NOT met'})")
    for _label, name, run in diagnostics:
        print(f"  ratio {name}/bare: "
              f"{run.rate(accepted(run)) / bare_rate if bare_rate else 0:.2f}")
    print(f"  client CPU: {ours.client_cpu / ours.wall:.0%} of one core during ours, "
          f"{inserts.client_cpu / inserts.wall:.0%} during bare, "
          f"{bare.ping.client_cpu / bare.ping.wall:.0%} at the ceiling")
    sound = outcome.sound and (exact or not full)
    errors = sum(r.server_errors for r in (ours, inserts, quiet, bare.claims) if r)
    return sound and not errors


def accepted(run: Run) -> list[Call]:
    return [c for c in run.calls if c.status == 201]


if __name__ == "__main__":
    sys.exit(main())
