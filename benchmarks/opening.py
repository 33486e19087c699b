"""Registration opening: N citizens arrive within a minute for one session of 200 places, and
each does what a phone does, in order, with a cookie jar of its own:

    event list    GET /
    event page    GET /events/<id>; a page that says the session is full ends the visit
    form          GET the register form (its cookie and CSRF token); a refusal ends the visit
    submit        获取验证码 (POST the form to .../phone-code), read the code off the phone (a
                  stand-in SMS provider on loopback, common.SmsInbox, which the app texts with its
                  real `sms` backend), POST the form with the code: one step, its latency all three
    ticket page   GET /t/<code>, where the 303 after registering points

every request with `Accept-Encoding: gzip, deflate, br` as a phone sends it. Arrivals are spread
over `--seconds`, front-loaded by default (arrival = seconds × u², u uniform: a quarter of the
citizens in the first 4 s of a minute, half in the first 15 s), or `--arrivals uniform`; at most
`--concurrency` citizens are under way at once (the others wait their turn, and the wait is
printed). The session is first come, first served, party sizes 1-2 (seeded).

Measured: the moment the last place was taken (the database polled every 20 ms), p50/p95 per
step, errors, and the citizens who came too late: every one whose event-page request began more
than 2 s after the session filled must have been shown it full (class `is-full` on the session);
one shown "open" is a violation. Afterwards, from the database: confirmed people == places_taken
<= capacity. Baseline in the same run: the same citizens at the same moments doing the same number
of requests against benchmarks/bare_app.py (reads `GET /bare/<id>`, writes `POST /bare`).

    python benchmarks/opening.py [--db sqlite|postgresql|both] [--citizens 2000] [--seconds 60]
                                 [--places 200] [--workers 4] [--concurrency 64]
                                 [--arrivals front|uniform]

Prints Markdown tables. Exits 1 on an oversold or lost place, any 5xx or failed connection, or a
late citizen shown the session open.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import brotli
from common import (
    CSRF_FIELD,
    DB_KINDS,
    Gunicorn,
    SmsInbox,
    app_env,
    databases,
    machine,
    markdown_table,
    percentile,
)
from mixed_data import prepare_bare
from opening_data import Opening, Places, count_places, places_taken, prepare_opening

STEPS = ("event list", "event page", "form", "submit", "ticket page")
GRACE = 2.0  # seconds after the session filled within which a page may still say "open"
FULL_SESSION = re.compile(rb'<li class="session[^"]*\bis-full\b')
PHONE = {"Accept-Encoding": "gzip, deflate, br",
         "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


@dataclass
class Citizen:
    number: int
    arrival: float  # seconds after the start, as scheduled
    party: int
    started: float = 0.0  # when a free hand took the citizen up (later than arrival when busy)
    steps: dict[str, float] = field(default_factory=dict)  # step: latency in seconds
    requests: dict[str, int] = field(default_factory=dict)  # step: HTTP requests it made
    statuses: list[int] = field(default_factory=list)
    page_began: float | None = None  # when the event-page request began, since the start
    page_full: bool | None = None  # whether that page showed the session full
    outcome: str = ""

    @property
    def phone(self) -> str:
        return f"13{self.number:09d}"


def main() -> int:
    args = parse_args()
    kinds = DB_KINDS if args.db == "both" else (args.db,)
    print(f"registration opening: {args.citizens} citizens over {args.seconds:.0f} s "
          f"({args.arrivals}), one session of {args.places} places, {args.workers} sync gunicorn "
          f"workers, at most {args.concurrency} citizens at once, {machine()}")
    ok = True
    for kind in kinds:
        ok &= run_kind(kind, args)
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=[*DB_KINDS, "both"], default="both")
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60, help="arrivals spread over this")
    parser.add_argument("--places", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64,
                        help="citizens under way at once, at most")
    parser.add_argument("--arrivals", choices=["front", "uniform"], default="front")
    parser.add_argument("--seed", type=int, default=1010)
    return parser.parse_args()


def schedule(args: argparse.Namespace, rng: random.Random) -> list[Citizen]:
    def arrival() -> float:
        u = rng.random()
        return args.seconds * (u * u if args.arrivals == "front" else u)

    times = sorted(arrival() for _ in range(args.citizens))
    return [Citizen(i, t, rng.choice((1, 1, 2))) for i, t in enumerate(times)]


def run_kind(kind: str, args: argparse.Namespace) -> bool:
    with databases(kind) as new_database, \
            tempfile.TemporaryDirectory(prefix="qmevents-opening-") as folder, \
            tempfile.TemporaryDirectory(prefix="qmevents-bare-") as bare_folder:
        url, instance = new_database("qmevents_opening"), Path(folder)
        opening = prepare_opening(url, instance, args.places)
        inbox = SmsInbox()
        env = {**app_env(instance, url), **inbox.env}
        with Gunicorn("wsgi:app", env, workers=args.workers).start(
                "/api/v1/openapi.json") as server:
            warm_up(server.port, ["/", f"/events/{opening.event_id}"], args.workers)
            citizens = schedule(args, random.Random(args.seed))
            filled, wall = arrive(citizens, lambda c, t0: visit(server.port, opening, c, t0,
                                                                inbox), args, opening)
            if any(s >= 500 or s == 0 for c in citizens for s in c.statuses):
                print(server.errors(), file=sys.stderr)
        inbox.close()
        places = count_places(instance, opening)
        bare_url = new_database("qmevents_bare")
        prepare_bare(bare_url)
        with Gunicorn("benchmarks.bare_app:create_app()", app_env(Path(bare_folder), bare_url),
                      workers=args.workers).start("/ping") as bare_server:
            warm_up(bare_server.port, ["/bare/1"], args.workers)
            shadows = [Citizen(c.number, c.arrival, c.party, requests=c.requests)
                       for c in citizens]
            bare_wall = arrive(shadows, lambda c, t0: bare_visit(bare_server.port, c), args)[1]
    return report(kind, args, citizens, shadows, filled, (wall, bare_wall), places)


def warm_up(port: int, paths: list[str], workers: int) -> None:
    """Every worker answers a few requests first: imports, the connection pool, the caches."""
    with ThreadPoolExecutor(workers * 2) as pool:
        list(pool.map(lambda p: fetch(port, "GET", p), paths * workers * 4))


# --- the citizens -------------------------------------------------------------------------------


def arrive(citizens: list[Citizen], visit_one, args: argparse.Namespace,
           opening: Opening | None = None) -> tuple[float | None, float]:
    """Each citizen visits at its arrival time, at most `--concurrency` at once. Returns when the
    session filled (polled from the database, seconds since the start; None if it did not) and
    how long the whole run took."""
    t0 = time.perf_counter()
    filled: list[float] = []
    done = threading.Event()

    def poll() -> None:  # the moment the last place is taken, within 20 ms
        while not done.is_set():
            if places_taken(opening) >= opening.capacity:
                filled.append(time.perf_counter() - t0)
                return
            done.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True) if opening else None
    if poller:
        poller.start()

    def one(citizen: Citizen) -> None:
        time.sleep(max(0.0, citizen.arrival - (time.perf_counter() - t0)))
        citizen.started = time.perf_counter() - t0
        try:
            visit_one(citizen, t0)
        except Exception as failure:  # noqa: BLE001 (a broken visit is counted, not raised)
            citizen.statuses.append(0)
            citizen.outcome = f"client error: {failure!r}"[:60]

    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(one, citizens))
    wall = time.perf_counter() - t0
    done.set()
    if poller:
        poller.join(5)
    return (filled[0] if filled else None), wall


def fetch(port: int, method: str, path: str, body: dict | None = None,
          cookies: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    """One request on a new connection as a phone's browser makes it: (status, the body
    decompressed, the Location header). Keeps any cookie set in `cookies`."""
    headers = dict(PHONE)
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    payload = None
    if body is not None:
        payload = urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=payload, headers=headers)
        answer = connection.getresponse()
        raw = answer.read()
    except OSError:
        return 0, b"", ""
    finally:
        connection.close()
    if cookies is not None:
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _eq, value = header.partition(";")[0].partition("=")
            cookies[name.strip()] = value.strip()
    encoding = answer.headers.get("Content-Encoding", "")
    if encoding == "br":
        raw = brotli.decompress(raw)
    elif encoding in ("gzip", "deflate"):
        raw = zlib.decompress(raw, 47)  # 47: gzip or zlib header, found out
    return answer.status, raw, answer.headers.get("Location", "")


def visit(port: int, opening: Opening, citizen: Citizen, t0: float, inbox: SmsInbox) -> None:
    """The citizen's visit to the real app, step by step, until it has a ticket or is told no."""
    jar: dict[str, str] = {}

    def step(name: str, *exchanges) -> tuple[int, bytes, str]:
        began = time.perf_counter()
        answer = (0, b"", "")
        for method, path, *body in exchanges:
            answer = fetch(port, method, path, body[0] if body else None, jar)
            citizen.statuses.append(answer[0])
            citizen.requests[name] = citizen.requests.get(name, 0) + 1
            if answer[0] not in (200, 303):
                break
        citizen.steps[name] = time.perf_counter() - began
        return answer

    step("event list", ("GET", "/"))
    citizen.page_began = time.perf_counter() - t0
    status, page, _ = step("event page", ("GET", f"/events/{opening.event_id}"))
    citizen.page_full = bool(FULL_SESSION.search(page))
    if status != 200 or citizen.page_full:
        citizen.outcome = "shown full on the event page" if status == 200 else f"page {status}"
        return
    form_path = f"/events/{opening.event_id}/sessions/{opening.session_id}"
    status, form, _ = step("form", ("GET", form_path + "/register"))
    token = CSRF_FIELD.search(form.decode(errors="replace"))
    if status != 200 or token is None:
        citizen.outcome = "refused on the form" if status == 200 else f"form {status}"
        return
    typed = {"csrf_token": token.group(1), "name": "王芳", "phone": citizen.phone,
             "party_size": str(citizen.party), "consent": "y"}
    began = time.perf_counter()
    status, _page, _ = step("submit", ("POST", form_path + "/phone-code", typed))
    if status == 200:
        code = inbox.code_for(citizen.phone)
        if code is None:
            citizen.statuses.append(0)
            citizen.outcome = "no code arrived"
            return
        status, _page, location = step("submit", ("POST", form_path + "/register",
                                                  {**typed, "phone_code": code}))
    citizen.steps["submit"] = time.perf_counter() - began
    if status != 303:
        citizen.outcome = "refused at submit (409)" if status == 409 else f"submit {status}"
        return
    status, _page, _ = step("ticket page", ("GET", urlsplit(location).path))
    citizen.outcome = "registered, ticket shown" if status == 200 else f"ticket {status}"


def bare_visit(port: int, citizen: Citizen) -> None:
    """The same number of requests of each step against the bare app: reads `GET /bare/<id>`,
    the submit's writes `POST /bare`."""
    for name in STEPS:
        began = time.perf_counter()
        for _ in range(citizen.requests.get(name, 0)):
            if name == "submit":
                status = post_bare(port, citizen)
            else:
                status = fetch(port, "GET", f"/bare/{citizen.number % 1000 + 1}")[0]
            citizen.statuses.append(status)
        if name in citizen.requests:
            citizen.steps[name] = time.perf_counter() - began
    citizen.outcome = "bare"


def post_bare(port: int, citizen: Citizen) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/bare", body=json.dumps(
            {"name": "王芳", "phone": citizen.phone, "party_size": citizen.party}),
            headers={**PHONE, "Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    except OSError:
        return 0
    finally:
        connection.close()


# --- the report ---------------------------------------------------------------------------------


def failures(citizens: list[Citizen]) -> int:
    return sum(s >= 500 or s == 0 for c in citizens for s in c.statuses)


def report(kind: str, args: argparse.Namespace, citizens: list[Citizen], shadows: list[Citizen],
           filled: float | None, walls: tuple[float, float], places: Places) -> bool:
    """The tables and the checks; True when nothing was oversold or lost, no 5xx or failed
    request, and no late citizen was shown the session open."""
    rows = []
    for name in STEPS:
        ours = sorted(c.steps[name] * 1000 for c in citizens if name in c.steps)
        bare = sorted(c.steps[name] * 1000 for c in shadows if name in c.steps)
        if not ours:
            continue
        cells = [f"{percentile(ms, p):.0f}" if ms else "-" for ms in (ours, bare)
                 for p in (50, 95)]
        rows.append([name, str(len(ours)), *cells[:2], *cells[2:],
                     f"{percentile(ours, 50) / percentile(bare, 50):.1f}x" if bare else "-"])
    print(f"\n## {kind}: {len(citizens)} citizens, one session of {places.capacity} places\n")
    print(markdown_table(["step", "citizens", "ours p50 ms", "ours p95 ms", "bare p50 ms",
                          "bare p95 ms", "p50 ours/bare"], rows))
    outcomes = Counter(c.outcome for c in citizens)
    print("\nwhat happened to them: " + "; ".join(f"{n} {what}" for what, n in
                                                  outcomes.most_common()))
    statuses = Counter(s for c in citizens for s in c.statuses)
    errors, bare_errors = failures(citizens), failures(shadows)
    print(f"answers: {dict(sorted(statuses.items()))}; 5xx or failed: {errors} ours, "
          f"{bare_errors} bare; runs took {walls[0]:.1f} s ours, {walls[1]:.1f} s bare; the "
          f"longest wait for a free hand (--concurrency): "
          f"{max(c.started - c.arrival for c in citizens):.2f} s ours, "
          f"{max(c.started - c.arrival for c in shadows):.2f} s bare")
    violations = late_citizens(citizens, filled)
    print(f"places: confirmed people {places.confirmed_people}, places_taken "
          f"{places.places_taken}, capacity {places.capacity}: "
          + ("no oversell, none lost" if places.sound else "OVERSOLD OR LOST"))
    print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
    return places.sound and not errors and not bare_errors and not violations


def late_citizens(citizens: list[Citizen], filled: float | None) -> int:
    """Print what the citizens who came after the session filled were shown; the number shown
    it open more than GRACE seconds after it filled (violations)."""
    if filled is None:
        print("\nthe session did not fill: no citizen came too late")
        return 0
    print(f"\ntime until full: {filled:.2f} s after the arrivals began (the database polled "
          f"every 20 ms)")
    after = [c for c in citizens if c.page_began is not None and c.page_began > filled]
    late = [c for c in after if c.page_began > filled + GRACE]
    shown_open = [c for c in after if c.page_full is False]
    violations = [c for c in late if not c.page_full]
    last_open = max((c.page_began - filled for c in shown_open), default=None)
    print(f"{len(after)} opened the event page after it filled: {len(after) - len(shown_open)} "
          f"were shown it full at once, {len(shown_open)} shown it open"
          + (f" (the last {last_open:.2f} s after it filled)" if last_open is not None else ""))
    print(f"{len(late)} opened it more than {GRACE:.0f} s after it filled: "
          f"{len(late) - len(violations)} shown full, {len(violations)} shown open "
          + ("(must be 0: VIOLATION)" if violations else "(must be 0: kept)"))
    return len(violations)


if __name__ == "__main__":
    sys.exit(main())
