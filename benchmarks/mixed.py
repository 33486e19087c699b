"""Mixed load: citizens browsing and registering, doors scanning and organisers reading their
figures, all at once, against the real app under gunicorn with several sync workers.

The database is the demo programme, copied out to `--events` events across the 16 districts, with
every session (but the lotteries') half full of bulk-loaded confirmed registrations; a few door
events get extra tickets for the devices to scan. Then `--clients` threads send requests with no
pause in between, each drawn from this mix (shares of requests sent):

    browse   70%   event list 25% (first page, a district, a kind, a later page), event page 30%,
                   ticket page 15%
    register 15%   the form 10% (CSRF token and cookie of a browser that opened it), the API 5%;
                   one new phone each, a session drawn by its capacity; each as a phone makes it
                   where the event verifies phones (the demo's do): ask for the code (the form's
                   获取验证码, or POST /api/v1/phone-codes), read it off the phone (a stand-in
                   SMS provider on loopback, common.SmsInbox), register with it: one request of
                   the mix, its latency all three
    scan     14%   POST /api/v1/checkins with a staff device's token and a scan_id of its own
                   (as the door page sends it); 1 in 20 a ticket scanned
                   again (answered `already_admitted`)
    organise  1%   GET /organiser/dashboard 0.5%, an event's report 0.5%, signed in (404 = the
                   page is not built yet: counted, not an error)

The bare app (benchmarks/bare_app.py) takes a sequence of the same shape under the same gunicorn in
turns with ours (`--rounds`): reads become `GET /bare/<id>`, writes `POST /bare`. Besides rates
and latencies, the CPU time the servers spent per request (gunicorn's processes, PostgreSQL's,
read from /proc): on a shared machine the figure to size a server by. Then the checks: no session
oversold, places equal to the people holding them, no ticket let in beyond its party, every
acknowledged registration and admission in the database.

    python benchmarks/mixed.py [--db sqlite|postgresql|both] [--workers 2,4] [--seconds 30]
                               [--clients 16] [--events 240] [--rounds 2]

Prints Markdown tables. Exits non-zero on a 5xx, an unexpected answer or a broken invariant.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from common import (
    DB_KINDS,
    Call,
    Gunicorn,
    Run,
    SmsInbox,
    app_env,
    browser_session,
    databases,
    drive,
    get,
    machine,
    markdown_table,
    percentile,
    post,
    post_form,
    postmaster,
    sign_in,
    tree_cpu,
    verified,
)
from mixed_data import (
    TICKET_HOST,
    Door,
    Programme,
    Target,
    check_invariants,
    prepare_bare,
    prepare_ours,
)
from sqlalchemy.engine import make_url

# (kind, share of requests, what it stands for in the bare app)
MIX = [
    ("browse: event list", 25.0, "read"),
    ("browse: event page", 30.0, "read"),
    ("browse: ticket page", 15.0, "read"),
    ("register: form", 10.0, "write"),
    ("register: API", 5.0, "write"),
    ("scan: check-in API", 14.0, "write"),
    ("organiser: dashboard", 0.5, "read"),
    ("organiser: event report", 0.5, "read"),
]
BASIS = {kind: basis for kind, _share, basis in MIX}
OK = {"register: form": {303}, "register: API": {201}}  # every other kind: 200
REFUSED = {"register: form": {409}, "register: API": {409},  # full, duplicate, closed
           "organiser: dashboard": {404}, "organiser: event report": {404}}  # not built yet
RESCAN = 0.05
# Requests per second a run's list is sized for (ours, bare); a warning says if one ran out.
MAX_RATE, BARE_MAX_RATE = 600, 4000


def main() -> int:
    args = parse_args()
    kinds = DB_KINDS if args.db == "both" else (args.db,)
    print(f"mixed load: {args.clients} clients, sync gunicorn workers {args.workers}, "
          f"{args.seconds:.0f} s of ours and as long of bare per run in {args.rounds} turns, "
          f"{args.events} events, {machine()}")
    summary: list[list[str]] = []
    ok = True
    for kind in kinds:
        ok &= run_kind(kind, args, summary)
    print(f"\n## Summary\n\nload average after the runs: {os.getloadavg()[0]:.1f} "
          f"(1 min), {os.getloadavg()[1]:.1f} (5 min)\n")
    print(markdown_table(["database", "workers", "ours req/s", "bare req/s", "ours/bare",
                          "CPU ms/req", "browse p95", "register p95", "scan p95", "organiser p95",
                          "errors"], summary))
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=[*DB_KINDS, "both"], default="both")
    parser.add_argument("--workers", default="2,4", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=30, help="of ours per run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=240,
                        help="events to come in the database: the demo programme, copied out "
                             "(and last year's edition, which the demo loads)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="ours and bare take turns this many times per run")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    args.workers = [int(n) for n in str(args.workers).split(",")]
    return args


@dataclass
class Measured:
    """The turns of ours or of bare through one list of requests: each answer with its kind."""

    kinds: list[str]
    turns: list[tuple[int, Run]] = field(default_factory=list)  # (where in the list it began, run)
    app_cpu: float = 0.0  # CPU seconds of gunicorn's master and workers during the turns
    db_cpu: float = 0.0  # of PostgreSQL's server processes (SQLite's work is in the workers)
    loads: list[float] = field(default_factory=list)  # the 1-minute load average after each turn

    @property
    def sent(self) -> int:
        return sum(len(run.calls) for _start, run in self.turns)

    def take_turn(self, server: Gunicorn, database: int | None, requests: list[bytes],
                  clients: int, seconds: float) -> None:
        """The next `seconds` of the list, and what the server and the database spent on it."""
        start = self.sent
        app0, db0 = tree_cpu(server.process.pid), tree_cpu(database) if database else 0.0
        self.turns.append((start, drive(server.port, requests[start:], clients, seconds)))
        self.app_cpu += tree_cpu(server.process.pid) - app0
        self.db_cpu += tree_cpu(database) - db0 if database else 0.0
        self.loads.append(os.getloadavg()[0])

    def cpu_ms(self) -> tuple[float, float]:
        """CPU milliseconds per request: the app's, the database server's."""
        return 1000 * self.app_cpu / self.sent, 1000 * self.db_cpu / self.sent

    def by_kind(self) -> dict[str, list[Call]]:
        calls = defaultdict(list)
        for start, run in self.turns:
            for call in run.calls:
                calls[self.kinds[start + call.index]].append(call)
        return calls

    def indexed(self) -> list[tuple[int, Call]]:
        return [(start + call.index, call) for start, run in self.turns for call in run.calls]

    @property
    def wall(self) -> float:
        return sum(run.wall for _start, run in self.turns)

    @property
    def client_cpu(self) -> float:
        return sum(run.client_cpu for _start, run in self.turns)


def run_kind(kind: str, args: argparse.Namespace, summary: list[list[str]]) -> bool:
    rng = random.Random(args.seed)
    per_run = int(args.seconds * MAX_RATE)
    with databases(kind) as new_database, \
            tempfile.TemporaryDirectory(prefix="qmevents-mixed-") as folder:
        url, instance = new_database("qmevents_mixed"), Path(folder)
        scans = int(per_run * share("scan: check-in API") * len(args.workers) * 1.1)
        programme = prepare_ours(url, instance, args.events, scans, rng)
        print(f"\n# {kind}: {programme.describe()}")
        ok, acknowledged, admitted = True, [], 0
        for workers in args.workers:
            bare_url = new_database(f"qmevents_bare_{workers}")
            prepare_bare(bare_url)
            ours, bare, phones = one_run(url, instance, bare_url, workers, programme, rng, args)
            acknowledged += phones
            admitted += answered(ours, "admitted")
            ok &= report(kind, workers, ours, bare, summary)
        problems = check_invariants(url, instance, acknowledged,
                                    programme.entries_before + admitted)
    print(f"\nchecks on {kind}: " + ("; ".join(problems) if problems else
          f"no session oversold, places equal the people holding them, no ticket let in beyond "
          f"its party, all {len(acknowledged)} acknowledged registrations and {admitted} "
          f"admissions in the database"))
    return ok and not problems


def one_run(url: str, instance: Path, bare_url: str, workers: int, programme: Programme,
            rng: random.Random, args: argparse.Namespace) -> tuple[Measured, Measured, list]:
    """Ours and bare in turns on one list of requests; the phones of the acknowledged
    registrations."""
    inbox = SmsInbox()
    ours_app = Gunicorn("wsgi:app", {**app_env(instance, url), **inbox.env}, workers=workers)
    with tempfile.TemporaryDirectory(prefix="qmevents-bare-") as bare_instance, \
            ours_app.start("/api/v1/openapi.json") as server, \
            Gunicorn("benchmarks.bare_app:create_app()", app_env(Path(bare_instance), bare_url),
                     workers=workers).start("/ping") as bare_server:
        kinds = rng.choices([k for k, _s, _b in MIX], [s for _k, s, _b in MIX],
                            k=int(args.seconds * MAX_RATE))
        requests, phones = build_requests(server.port, kinds, programme, rng, inbox)
        bare_kinds = rng.choices([k for k, _s, _b in MIX], [s for _k, s, _b in MIX],
                                 k=int(args.seconds * BARE_MAX_RATE))
        bare_requests = [bare_request(kind, i, rng) for i, kind in enumerate(bare_kinds)]
        warm_up(server.port, programme, workers)
        warm_up(bare_server.port, None, workers)
        ours, bare = Measured(kinds), Measured(bare_kinds)
        database = postmaster(make_url(url).port) if url.startswith("postgresql") else None
        for _turn in range(args.rounds):
            ours.take_turn(server, database, requests, args.clients, args.seconds / args.rounds)
            bare.take_turn(bare_server, database, bare_requests, args.clients,
                           args.seconds / args.rounds)
        if any(run.server_errors for _start, run in ours.turns):
            print(server.errors(), file=sys.stderr)
    inbox.close()
    acknowledged = [phones[i] for i, call in ours.indexed()
                    if i in phones and call.status in OK[kinds[i]]]
    return ours, bare, acknowledged


def share(kind: str) -> float:
    return next(s for k, s, _b in MIX if k == kind) / sum(s for _k, s, _b in MIX)


# --- the requests -------------------------------------------------------------------------------


def build_requests(port: int, kinds: list[str], programme: Programme, rng: random.Random,
                   inbox: SmsInbox) -> tuple[list, dict[int, str]]:
    """The list the clients work through, and the phone sent by each registration (by index).
    The browsers (a citizen's form, the organisers) are opened before the clock starts."""
    target = programme.targets[0]
    cookie, token = browser_session(port, register_path(target))
    citizen = {"Cookie": cookie}
    organisers = [(sign_in(port, email, password), events)
                  for email, password, events in programme.organisers]
    requests: list = []
    phones: dict[int, str] = {}
    scanned: list[tuple[Door, str]] = []
    weights = [t.capacity for t in programme.targets]
    for i, kind in enumerate(kinds):
        if kind == "browse: event list":
            requests.append(get(rng.choice(programme.list_paths), PHONE))
        elif kind == "browse: event page":
            requests.append(get(f"/events/{rng.choice(programme.event_ids)}", PHONE))
        elif kind == "browse: ticket page":
            requests.append(get(f"/t/{rng.choice(programme.ticket_codes)}", PHONE))
        elif kind.startswith("register"):
            session = rng.choices(programme.targets, weights)[0]
            phones[i] = programme.new_phone()
            party = rng.randint(1, session.max_party)
            if kind == "register: form":
                typed = {"csrf_token": token, "name": "王芳", "phone": phones[i],
                         "party_size": str(party), "consent": "y"}
                requests.append(verified(
                    post_form(code_path(session), typed, citizen),
                    lambda code, typed=typed, session=session: post_form(
                        register_path(session), {**typed, "phone_code": code}, citizen),
                    phones[i], inbox))
            else:
                body = {"session_id": session.session_id, "name": "王芳", "phone": phones[i],
                        "party_size": party}
                path = f"/api/v1/events/{session.event_id}/registrations"
                requests.append(verified(
                    post("/api/v1/phone-codes", {"phone": phones[i]}),
                    lambda code, body=body, path=path: post(path, {**body, "phone_code": code}),
                    phones[i], inbox))
        elif kind == "scan: check-in API":
            fresh = None if scanned and rng.random() < RESCAN else scan(programme)
            if fresh is not None:
                scanned.append(fresh)
            # A ticket scanned again is another scan: another scan_id, as the door page makes it.
            requests.append(scan_request(*(fresh or rng.choice(scanned))))
        else:
            cookie_header, events = rng.choice(organisers)
            path = "/organiser/dashboard" if kind == "organiser: dashboard" else \
                f"/organiser/events/{rng.choice(events)}/report"
            requests.append(get(path, {"Cookie": cookie_header}))
    return requests, phones


# What a phone's browser sends with every page it asks for: it takes compressed answers.
PHONE = {"Accept-Encoding": "gzip, deflate, br"}


def register_path(target: Target) -> str:
    return f"/events/{target.event_id}/sessions/{target.session_id}/register"


def code_path(target: Target) -> str:
    """The form's 获取验证码 button posts the form here."""
    return f"/events/{target.event_id}/sessions/{target.session_id}/phone-code"


def scan(programme: Programme) -> tuple[Door, str] | None:
    """A fresh ticket at the next door (the door, the ticket's code); None when the doors ran
    out."""
    door = programme.doors[programme.next_door()]
    if not door.codes:
        return None
    return door, door.codes.pop()


def scan_request(door: Door, code: str) -> bytes:
    """The scan as its device sends it: the door page gives each scan an id of its own."""
    return post("/api/v1/checkins", {
        "code": f"{TICKET_HOST}/t/{code}", "event_id": door.event_id,
        "session_id": door.session_id, "scan_id": uuid.uuid4().hex},
        {"Authorization": f"Bearer {door.token}"})


def bare_request(kind: str, i: int, rng: random.Random) -> bytes:
    if BASIS[kind] == "read":
        return get(f"/bare/{rng.randint(1, 1000)}")
    return post("/bare", {"name": "市民", "phone": f"139{i:08d}", "party_size": 2})


def warm_up(port: int, programme: Programme | None, workers: int) -> None:
    """Every worker answers a few requests first: imports, the connection pool, the caches."""
    paths = ["/ping"] if programme is None else [
        "/", f"/events/{programme.event_ids[0]}", "/api/v1/openapi.json"]
    drive(port, [get(p) for p in paths] * (workers * 4), workers * 2, 30)


# --- the report ---------------------------------------------------------------------------------


def outcome(kind: str | None, call: Call) -> str:
    """ok, refused (an answer the app should give: `full`, a page not built yet), or error.
    For bare (no kind) any 2xx is ok."""
    if kind is None:
        return "ok" if 200 <= call.status < 300 else "error"
    if call.status in OK.get(kind, {200}):
        if kind.startswith("scan"):  # made now: `repeated` would mean a scan_id sent twice
            return "ok" if (_result(call) in ("admitted", "already_admitted")
                            and not _answer(call).get("repeated")) else "error"
        return "ok"
    return "refused" if call.status in REFUSED.get(kind, ()) else "error"


def _answer(call: Call) -> dict:
    try:
        answer = json.loads(call.body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _result(call: Call) -> str | None:
    return _answer(call).get("result")


def answered(measured: Measured, result: str) -> int:
    """Scans answered `result` (admitted, already_admitted)."""
    return sum(call.status == 200 and _result(call) == result
               for call in measured.by_kind().get("scan: check-in API", []))


def figures(label: str, pairs: list[tuple[str | None, Call]], wall: float) -> list[str]:
    """A table row: requests, per second over the run, p50/p95/p99, refused, unexpected 4xx
    (any answer the kind should not get that is not a 5xx), 5xx and failed connections."""
    ms = sorted(call.seconds * 1000 for _kind, call in pairs)
    outcomes = Counter(outcome(kind, call) for kind, call in pairs)
    server = sum(call.status >= 500 or call.status == 0 for _kind, call in pairs)
    return [label, str(len(pairs)), f"{len(pairs) / wall:.1f}",
            *(f"{percentile(ms, p):.0f}" if ms else "-" for p in (50, 95, 99)),
            str(outcomes["refused"]), str(outcomes["error"] - server), str(server)]


def report(kind: str, workers: int, ours: Measured, bare: Measured,
           summary: list[list[str]]) -> bool:
    """The run's table and ratios; a line of the summary. True when no answer was unexpected."""
    calls, bare_calls = ours.by_kind(), bare.by_kind()
    every = [(k, c) for k, _s, _b in MIX for c in calls.get(k, [])]
    rows = [figures(k, [(k, c) for c in calls.get(k, [])], ours.wall) for k, _s, _b in MIX]
    rows.append(figures("**all of ours**", every, ours.wall))
    for basis, label in (("read", "bare: GET /bare/<id> (reads)"),
                         ("write", "bare: POST /bare (writes)")):
        rows.append(figures(label, [(None, c) for k, cs in bare_calls.items()
                                    if BASIS[k] == basis for c in cs], bare.wall))
    rows.append(figures("**all of bare**", [(None, c) for cs in bare_calls.values()
                                            for c in cs], bare.wall))
    print(f"\n### {kind}, {workers} workers\n")
    print(markdown_table(["kind", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "refused",
                          "unexpected 4xx", "5xx or failed"], rows))
    ours_rate, bare_rate = ours.sent / ours.wall, bare.sent / bare.wall
    print(f"\nours/bare: {ours_rate / bare_rate:.2f} of the bare rate for the same mix; p50 "
          "against the bare read or write: " + ", ".join(
              f"{k.split(': ')[1]} {ratio_p50(calls.get(k, []), bare_calls, k):.1f}x"
              for k, _s, _b in MIX))
    print("CPU per request: " + "; ".join(
        f"{name} {app:.1f} ms in gunicorn" + (f" + {db:.1f} ms in PostgreSQL" if db else "")
        for name, (app, db) in (("ours", ours.cpu_ms()), ("bare", bare.cpu_ms())))
        + f" (one core at 100% serves {1000 / sum(ours.cpu_ms()):.0f} requests/s of this mix)")
    print(f"scans: {answered(ours, 'admitted')} admitted, "
          f"{answered(ours, 'already_admitted')} already admitted; client CPU "
          f"{ours.client_cpu / ours.wall:.0%} of one core during ours, "
          f"{bare.client_cpu / bare.wall:.0%} during bare; load average after the turns "
          + ", ".join(f"{load:.1f}" for load in ours.loads + bare.loads))
    for measured, name in ((ours, "MAX_RATE"), (bare, "BARE_MAX_RATE")):
        if measured.sent >= len(measured.kinds):
            print(f"WARNING: a list of requests ran out before the time: raise {name}")
    errors = sum(int(r[-2]) + int(r[-1]) for r in rows[:len(MIX)])
    summary.append([kind, str(workers), f"{ours_rate:.0f}", f"{bare_rate:.0f}",
                    f"{ours_rate / bare_rate:.2f}", f"{sum(ours.cpu_ms()):.1f}",
                    *(p95([c for k, cs in calls.items() if k.startswith(prefix) for c in cs])
                      for prefix in ("browse", "register", "scan", "organiser")),
                    str(errors)])
    return errors == 0


def ratio_p50(calls: list[Call], bare_calls: dict[str, list[Call]], kind: str) -> float:
    base = sorted(c.seconds for k, cs in bare_calls.items() if BASIS[k] == BASIS[kind]
                  for c in cs)
    mine = sorted(c.seconds for c in calls)
    return percentile(mine, 50) / percentile(base, 50) if mine and base else float("nan")


def p95(calls: list[Call]) -> str:
    return f"{percentile(sorted(c.seconds * 1000 for c in calls), 95):.0f} ms" if calls else "-"

if __name__ == "__main__":
    sys.exit(main())
