"""What one scan costs, in process: statements, round trips and CPU of `POST /api/v1/checkins`.

The app serves the scans through Flask's test client (no gunicorn, no network client), on a
database prepared as benchmarks/checkin.py prepares it (a session under way, thousands of
confirmed tickets, one question shown at the door). First `--scans` fresh tickets (answered
`admitted`), then the same tickets again (`already_admitted`), then as many with a `scan_id`
(the door page's way, services/door/sync.py). For each kind it prints the SQL statements per
scan (an SQLAlchemy `before_cursor_execute` listener), the connections checked out of the pool
per scan (each one a ping on PostgreSQL: pool_pre_ping), the app's CPU per scan (this process)
and, on PostgreSQL, the server's (its postmaster and backends, from /proc). `--profile KIND`
prints cProfile's top functions for that kind; `--statements` the statements of one scan.

    python benchmarks/checkin_profile.py [--db sqlite|postgresql] [--scans 300]
                                         [--profile fresh|rescan|scan_id] [--statements]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

from checkin import TICKET_HOST, prepare_ours
from common import databases, postmaster, qmevents_app, tree_cpu
from sqlalchemy import event
from sqlalchemy.engine import make_url

KINDS = ("fresh", "rescan", "scan_id")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--scans", type=int, default=300)
    parser.add_argument("--profile", choices=KINDS)
    parser.add_argument("--statements", action="store_true",
                        help="print the statements of the last scan of each kind")
    args = parser.parse_args()
    rng = random.Random(927)
    warm = 20
    parties = [rng.randint(1, 4) for _ in range(2 * args.scans + 2 * warm)]
    with databases(args.db) as new_database:
        url = new_database("qmevents_profile")
        instance = Path(tempfile.mkdtemp(prefix="qmevents-profile-"))
        gate = prepare_ours(url, instance, parties, rng)
        app = qmevents_app(url, instance)
        database = postmaster(make_url(url).port) if args.db == "postgresql" else None
        client = app.test_client()
        device = {"Authorization": f"Bearer {gate.token}"}
        counts = {"statements": 0, "checkouts": 0}
        seen: list[str] = []
        with app.app_context():
            from qmevents.extensions import db

            engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn, cursor, statement, parameters, context, executemany):
            counts["statements"] += 1
            seen.append(" ".join(statement.split())[:160])

        @event.listens_for(engine.pool, "checkout")
        def _checkout(dbapi_connection, record, proxy):
            counts["checkouts"] += 1

        def scan(code: str, result: str, scan_id: str | None = None) -> None:
            body = {"code": f"{TICKET_HOST}/t/{code}", "event_id": gate.event_id,
                    "session_id": gate.session_id}
            if scan_id is not None:
                body["scan_id"] = scan_id
            answer = client.post("/api/v1/checkins", json=body, headers=device)
            got = answer.get_json()
            if answer.status_code != 200 or got["result"] != result:
                raise SystemExit(f"scan answered {answer.status_code} {got}")

        codes = gate.codes
        for code in codes[:warm]:  # imports, the token's cache, the compiled statements
            scan(code, "admitted")
            scan(code, "already_admitted")
        fresh = codes[warm:warm + args.scans]
        with_id = codes[warm + args.scans:warm + 2 * args.scans]
        runs = {
            "fresh": [(code, "admitted", None) for code in fresh],
            "rescan": [(code, "already_admitted", None) for code in fresh],
            "scan_id": [(code, "admitted", f"p{i}") for i, code in enumerate(with_id)],
        }
        print(f"{args.db}: {args.scans} scans of each kind, in process (Flask's test client)")
        print(f"  {'kind':<8} {'statements':>10} {'checkouts':>9} {'app CPU ms':>10} "
              f"{'db CPU ms':>9} {'wall ms':>8}")
        for kind, scans in runs.items():
            counts.update(statements=0, checkouts=0)
            profiler = cProfile.Profile() if args.profile == kind else None
            db0 = tree_cpu(database) if database else 0.0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for code, result, scan_id in scans:
                seen.clear()
                scan(code, result, scan_id)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            db_cpu = (tree_cpu(database) - db0) if database else 0.0
            n = len(scans)
            print(f"  {kind:<8} {counts['statements'] / n:>10.2f} {counts['checkouts'] / n:>9.2f} "
                  f"{cpu / n * 1000:>10.2f} {db_cpu / n * 1000:>9.2f} {wall / n * 1000:>8.2f}")
            if args.statements:
                for statement in seen:
                    print(f"      {statement}")
            if profiler:
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
