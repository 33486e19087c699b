"""Check-in at the door: devices scanning tickets as fast as the queue allows.

Starts the real app under gunicorn (sync workers) on loopback, with a family tour whose session
holds thousands of confirmed tickets, and sends `POST /api/v1/checkins` (a staff device's bearer
token, the ticket's whole URL as the QR holds it, a scan_id of its own as the door page sends
with every scan) from 1, 8 and 32 concurrent devices, each ticket
once; and the same client, at the same concurrency, against a bare endpoint on the same stack
(benchmarks/bare_app.py: one insert per request), the two taking turns in slices (`--rounds`) so
that anything else the machine does weighs on both alike. Prints check-ins per second and
p50/p95/p99 latency beside the bare figures, and the ratios, per database.

Before the scans, the door's ticket list for offline scanning (`GET /api/v1/events/<id>/door-list`)
of `--list-tickets` tickets (5,000; each with a door answer): the whole list as JSON and
gzip-compressed, then the delta after DELTA_SCANS scans, each downloaded by one device in turns
with the bare stack's `GET /bare-list` (the same number of rows read and sent as JSON). Prints the
bytes of both encodings and the milliseconds, with the ratios to the bare list.

Then the sync of devices that were offline (services/door/sync.py): `--batch-scans` more tickets,
half scanned one by one (`POST /api/v1/checkins` with a scan_id, as the door page sends them),
half sent in batches of `--batch-size` (`POST /api/v1/checkins/batch`, offline scans), from
`--batch-devices` devices at once; scans per second of each and the ratio batch/single.

    python benchmarks/checkin.py [--db sqlite|postgresql|both] [--requests 1500]
                                 [--devices 1,8,32] [--rounds 3] [--seconds 60] [--workers 4]
                                 [--batch-scans 1000] [--batch-size 50] [--batch-devices 4]
                                 [--list-tickets 5000]

Each level's tickets are then scanned again at the same concurrency (re-scans, answered
`already_admitted`), right after their first scan in each slice. For scans and re-scans alike
the CPU per request of the servers is read from /proc (gunicorn's master and workers, plus
PostgreSQL's postmaster and backends): a re-scan must cost no more than a scan.

Targets: at least 0.8 of the bare rate at 8 and 32 devices, p99 at 8 devices within 1.5x the
bare endpoint's, a single device answered in under 10 ms at p50, a re-scan no dearer in CPU than
a scan, and not one failed scan; the whole ticket list of 5,000 under 200 ms at p50 on SQLite.
Exits non-zero when a scan failed (anything but a 200 `admitted` for a fresh ticket,
`already_admitted` for a re-scan), a request got a 5xx, or a ticket was let in other than
exactly once.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import (
    DB_KINDS,
    Gunicorn,
    Run,
    app_env,
    databases,
    drive,
    get,
    machine,
    percentile,
    post,
    postmaster,
    print_table,
    qmevents_app,
    row,
    tree_cpu,
)
from sqlalchemy.engine import make_url

MAX_PARTY = 4
TARGET_RATE = 0.8  # of the bare endpoint's check-ins per second, at 8 and 32 devices
TARGET_P99 = 1.5  # times the bare endpoint's p99, at 8 devices
TARGET_P50_MS = 10.0  # one device
TICKET_HOST = "https://zlj.example.gov.cn"
DELTA_SCANS = 50  # tickets scanned between the whole list and its delta
LIST_SAMPLES = 10  # downloads of each kind per round
TARGET_LIST_MS = 200.0  # the whole list of 5,000 tickets, p50, SQLite
GZIP = {"Accept-Encoding": "gzip"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗欧阳司马"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


@dataclass
class Level:
    devices: int
    ours: Run
    bare: Run
    failed: int  # scans not answered 200 `admitted`, re-scans not `already_admitted`
    rescans: Run | None = None  # the same tickets scanned again
    cpu_scan: float = 0.0  # CPU seconds of the servers (app and database) during the scans
    cpu_rescan: float = 0.0  # ... during the re-scans

    def cpu_ms(self) -> tuple[float, float]:
        """The servers' CPU per request, ms: (scan, re-scan)."""
        rescans = len(self.rescans.calls) if self.rescans else 0
        return (self.cpu_scan / max(len(self.ours.calls), 1) * 1000,
                self.cpu_rescan / max(rescans, 1) * 1000)


@dataclass
class ListFigures:
    """The door's ticket list: downloads of the whole list (JSON, gzip), of the delta, and of
    the bare list of as many rows."""

    tickets: int
    json_bytes: int
    gzip_bytes: int
    delta_tickets: int
    delta_bytes: int
    bare_bytes: int
    full_json: Run
    full_gzip: Run
    delta: Run
    bare: Run
    failed: int  # downloads not 200, or scans between them not admitted


def main() -> int:
    args = parse_args()
    kinds = DB_KINDS if args.db == "both" else (args.db,)
    print(f"check-in at the door: {args.requests} scans per level at {args.devices} devices, "
          f"{args.workers} sync gunicorn workers, {machine()}")
    ok = True
    for kind in kinds:
        ok &= run_kind(kind, args)
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=[*DB_KINDS, "both"], default="both")
    parser.add_argument("--requests", type=int, default=1500,
                        help="scans per concurrency level, each a ticket of its own")
    parser.add_argument("--devices", default="1,8,32",
                        help="concurrency levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=60,
                        help="stop a level after this long even if scans remain")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3,
                        help="ours and bare take turns this many times per level")
    parser.add_argument("--seed", type=int, default=927)
    parser.add_argument("--list-tickets", type=int, default=5000,
                        help="tickets of the event for the door's ticket list (at least the "
                             "scans and DELTA_SCANS more)")
    parser.add_argument("--batch-scans", type=int, default=1000,
                        help="tickets for single vs batch: half each way; 0 skips")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batch-devices", type=int, default=4)
    args = parser.parse_args()
    args.devices = [int(n) for n in args.devices.split(",")]
    return args


def run_kind(kind: str, args: argparse.Namespace) -> bool:
    rng = random.Random(args.seed)
    scanned = args.requests * len(args.devices)
    # The levels' tickets, then DELTA_SCANS for the list's delta, then the sync's; the list has
    # at least --list-tickets.
    synced_from = scanned + DELTA_SCANS
    parties = [rng.randint(1, MAX_PARTY)
               for _ in range(max(synced_from + args.batch_scans, args.list_tickets))]
    with databases(kind) as new_database:
        url, bare_url = new_database("qmevents_door"), new_database("qmevents_bare")
        instance = Path(tempfile.mkdtemp(prefix="qmevents-door-"))
        gate = prepare_ours(url, instance, parties, rng)
        prepare_bare(bare_url, len(parties))
        device = {"Authorization": f"Bearer {gate.token}"}
        # Each scan with a scan_id of its own, as the door page sends every scan (a re-scan is
        # another scan of the same ticket: another id).
        scans = [scan_request(gate, code, device, f"d{i}") for i, code in enumerate(gate.codes)]
        rescans = [scan_request(gate, code, device, f"e{i}") for i, code in enumerate(gate.codes)]
        inserts = [post("/bare", {"name": "市民", "phone": f"139{i:08d}", "party_size": size})
                   for i, size in enumerate(parties)]
        ours_app = Gunicorn("wsgi:app", app_env(instance, url), workers=args.workers)
        bare_app = Gunicorn("benchmarks.bare_app:create_app()",
                            app_env(Path(tempfile.mkdtemp(prefix="qmevents-bare-")), bare_url),
                            workers=args.workers)
        with ours_app.start("/api/v1/openapi.json") as ours, bare_app.start("/ping") as bare:
            warm_up(ours, f"/api/v1/events/{gate.event_id}/attendance", args, device)
            warm_up(bare, "/ping", args)
            listed = measure_list(ours, bare, gate, scans[scanned:scanned + DELTA_SCANS],
                                  device, args)
            database = postmaster(make_url(url).port) if kind == "postgresql" else None
            cpu = ServerCpu(ours.process.pid, database)
            levels = [measure(ours, bare, (scans, rescans), inserts, i, devices, args, cpu)
                      for i, devices in enumerate(args.devices)]
            synced = measure_sync(ours, gate,
                                  gate.codes[synced_from:synced_from + args.batch_scans],
                                  device, args)
            if synced.failed or any(level.ours.server_errors for level in levels):
                print(ours.errors(), file=sys.stderr)
            if any(level.bare.server_errors for level in levels):
                print(bare.errors(), file=sys.stderr)
        let_in, rows_written = count_admissions(url, instance, gate)
    # The scans between the whole list and its delta were let in too: not the levels' tickets.
    admitted_once = (let_in - DELTA_SCANS, rows_written - DELTA_SCANS)
    listed_ok = report_list(kind, listed)
    return report(kind, levels, admitted_once, scanned, synced) and listed_ok


def scan_request(gate: Prepared, code: str, device: dict[str, str], scan_id: str) -> bytes:
    return post("/api/v1/checkins", {"code": f"{TICKET_HOST}/t/{code}", "event_id": gate.event_id,
                                     "session_id": gate.session_id, "scan_id": scan_id}, device)


def measure_list(ours: Gunicorn, bare: Gunicorn, gate: Prepared, delta_scans: list[bytes],
                 device: dict[str, str], args: argparse.Namespace) -> ListFigures:
    """The door's ticket list, one device at a time, ours and bare taking turns in rounds: the
    whole list as JSON and gzipped; then DELTA_SCANS scans; then the delta since the list."""
    path = f"/api/v1/events/{gate.event_id}/door-list"
    first = drive(ours.port, [get(path, device)], 1, args.seconds)
    cursor = json.loads(first.calls[0].body)["cursor"] if first.calls and \
        first.calls[0].status == 200 else ""
    full_json, full_gzip, bare_runs = [], [], []
    for _r in range(args.rounds):
        full_json.append(drive(ours.port, [get(path, device)] * LIST_SAMPLES, 1, args.seconds))
        full_gzip.append(drive(ours.port, [get(path, {**device, **GZIP})] * LIST_SAMPLES, 1,
                               args.seconds))
        bare_runs.append(drive(bare.port, [get("/bare-list")] * LIST_SAMPLES, 1, args.seconds))
    scanned = drive(ours.port, delta_scans, 1, args.seconds)
    delta_path = f"{path}?since={cursor}"
    delta_runs = [drive(ours.port, [get(delta_path, {**device, **GZIP})] * LIST_SAMPLES, 1,
                        args.seconds) for _r in range(args.rounds)]
    json_run, gzip_run = merged(full_json, "list json"), merged(full_gzip, "list gzip")
    delta_run, bare_run = merged(delta_runs, "list delta"), merged(bare_runs, "bare list")
    runs = (json_run, gzip_run, delta_run, bare_run)
    failed = failures(scanned) + sum(c.status != 200 for r in runs for c in r.calls)
    whole = json.loads(json_run.calls[0].body) if json_run.calls else {"tickets": []}
    delta_body = delta_run.calls[0].body if delta_run.calls else b""
    delta = json.loads(_gunzip(delta_body) or b'{"tickets": []}')
    return ListFigures(
        tickets=len(whole["tickets"]), json_bytes=len(json_run.calls[0].body),
        gzip_bytes=len(gzip_run.calls[0].body), delta_tickets=len(delta["tickets"]),
        delta_bytes=len(delta_body), bare_bytes=len(bare_run.calls[0].body),
        full_json=json_run, full_gzip=gzip_run, delta=delta_run, bare=bare_run, failed=failed)


def _gunzip(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


@dataclass
class ServerCpu:
    """CPU seconds used by our gunicorn (master and workers) and PostgreSQL's server, if any."""

    app: int
    database: int | None

    def __call__(self) -> float:
        return tree_cpu(self.app) + (tree_cpu(self.database) if self.database else 0.0)


def measure(ours: Gunicorn, bare: Gunicorn, requests: tuple[list[bytes], list[bytes]],
            inserts: list[bytes],
            index: int, devices: int, args: argparse.Namespace, cpu: ServerCpu) -> Level:
    """One concurrency level, ours and bare taking turns in `--rounds` slices, so that whatever
    else the machine does in the meantime weighs on both alike; in each slice the tickets just
    scanned are scanned again (re-scans), the servers' CPU read around each."""
    scans, rescans = requests
    size = args.requests // args.rounds
    first = index * args.requests
    ours_runs, again_runs, bare_runs = [], [], []
    cpu_scan = cpu_rescan = 0.0
    for r in range(args.rounds):
        part = slice(first + r * size, first + (r + 1) * size)
        before = cpu()
        ours_runs.append(drive(ours.port, scans[part], devices, args.seconds))
        between = cpu()
        again_runs.append(drive(ours.port, rescans[part], devices, args.seconds))
        cpu_scan, cpu_rescan = cpu_scan + between - before, cpu_rescan + cpu() - between
        bare_runs.append(drive(bare.port, inserts[part], devices, args.seconds))
    ours_run, bare_run = merged(ours_runs, f"ours {devices}"), merged(bare_runs, f"bare {devices}")
    again = merged(again_runs, f"re-scans {devices}")
    return Level(devices, ours_run, bare_run,
                 failures(ours_run) + failures(again, "already_admitted"), again, cpu_scan,
                 cpu_rescan)


def merged(runs: list[Run], name: str) -> Run:
    return Run(name, sum(r.wall for r in runs), sum(r.client_cpu for r in runs),
               [call for r in runs for call in r.calls])


# --- the sync of offline devices: single scans vs batches -----------------------------------------


@dataclass
class Synced:
    single: Run  # one scan per request, each with a scan_id
    batches: Run  # `--batch-size` offline scans per request
    single_scans: int
    batch_scans: int
    failed: int  # scans not answered `admitted` (a 200 `recorded` item in a batch)
    size: int = 50
    devices: int = 4

    def rates(self) -> tuple[float, float]:
        single = self.single_scans / self.single.wall if self.single.wall else 0.0
        batched = self.batch_scans / self.batches.wall if self.batches.wall else 0.0
        return single, batched


def measure_sync(ours: Gunicorn, gate: Prepared, codes: list[str], device: dict[str, str],
                 args: argparse.Namespace) -> Synced:
    """Half the tickets scanned one by one with a scan_id, half in batches, same devices."""
    half = len(codes) // 2
    now = datetime.now(UTC)
    single = [post("/api/v1/checkins", {"code": code, "event_id": gate.event_id,
                                        "session_id": gate.session_id, "scan_id": f"s{i}"},
                   device) for i, code in enumerate(codes[:half])]
    items = [{"scan_id": f"b{i}", "code": code, "event_id": gate.event_id,
              "session_id": gate.session_id, "offline": True,
              "scanned_at": (now - timedelta(seconds=len(codes) - i)).isoformat()}
             for i, code in enumerate(codes[half:])]
    size = max(1, args.batch_size)
    batches = [post("/api/v1/checkins/batch", {"scans": items[i:i + size]}, device)
               for i in range(0, len(items), size)]
    single_run = drive(ours.port, single, args.batch_devices, args.seconds, "single")
    batch_run = drive(ours.port, batches, args.batch_devices, args.seconds, "batches")
    failed = failures(single_run) + (half - len(single_run.calls))
    answered = 0
    for call in batch_run.calls:
        try:
            results = json.loads(call.body)["results"] if call.status == 200 else []
        except (ValueError, KeyError, TypeError):
            results = []
        answered += len(results)
        failed += sum(not (r["status"] == "recorded" and r["result"] == "admitted")
                      for r in results)
    failed += len(items) - answered
    return Synced(single_run, batch_run, len(single_run.calls), answered, failed, size,
                  args.batch_devices)


# --- ours ---------------------------------------------------------------------------------------


@dataclass
class Prepared:
    event_id: int
    session_id: int
    token: str
    codes: list[str]


def prepare_ours(url: str, instance: Path, parties: list[int], rng: random.Random) -> Prepared:
    """Tables, an organisation, its door staff with a device token, a published family tour with
    one roomy session and a question shown at the door (身份证后四位), and one confirmed
    registration per party with its answer, last changed an hour ago (inserted in bulk: the
    registration path has its own benchmark)."""
    from sqlalchemy import insert, select, update

    from qmevents.extensions import db
    from qmevents.models import (
        Answer,
        EventSession,
        Question,
        QuestionKind,
        Registration,
        RegistrationStatus,
        StaffAssignment,
        ensure_districts,
    )
    from qmevents.services import accounts, events
    from qmevents.services.registrations.codes import new_code
    from qmevents.timeutil import utcnow

    app = qmevents_app(url, instance)
    with app.app_context():
        db.create_all()
        ensure_districts()
        bureau = "杨浦区市场监督管理局"
        org = accounts.find_or_create_organisation(bureau, "杨浦区")
        db.session.commit()
        start = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
        draft = events.EventDraft(
            title="杨浦区家庭质量探寻之旅", kind="family_tour", district="杨浦区",
            venue="上海电气展示中心", max_party_size=MAX_PARTY, checkpoints=["入口", "质量展厅"],
            tallies=["资料发放"],
            sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=3),
                                          capacity=events.MAX_CAPACITY)])
        event = events.create_event(org.id, draft, publish=True)
        event_id, session_id = event.id, event.sessions[0].id
        staff = accounts.create_user("door@example.cn", "load-test-password", "staff", bureau)
        db.session.add(StaffAssignment(user_id=staff.id, event_id=event_id))
        db.session.commit()
        token, _row = accounts.issue_token(staff)
        now = utcnow()
        codes = [new_code() for _ in parties]
        earlier = now - timedelta(hours=1)
        db.session.execute(insert(Registration), [
            {"code": code, "event_id": event_id, "session_id": session_id,
             "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
             "phone": f"139{i:08d}", "party_size": size, "status": RegistrationStatus.CONFIRMED,
             "source": "web", "consent_at": earlier, "created_at": earlier,
             "updated_at": earlier, "admitted_people": 0}
            for i, (code, size) in enumerate(zip(codes, parties, strict=True))])
        question = Question(event_id=event_id, position=0, kind=QuestionKind.TEXT,
                            label="身份证后四位", required=False, show_at_door=True)
        db.session.add(question)
        db.session.flush()
        db.session.execute(insert(Answer), [
            {"registration_id": registration_id, "question_id": question.id,
             "value": f"{rng.randint(0, 9999):04d}"}
            for registration_id in db.session.scalars(
                select(Registration.id).where(Registration.event_id == event_id))])
        # The day of the event: the session is under way, so its door admits
        # (services.door.checkin).
        db.session.execute(update(EventSession).where(EventSession.id == session_id).values(
            places_taken=sum(parties), starts_at=now - timedelta(minutes=30),
            ends_at=now + timedelta(hours=3)))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Prepared(event_id, session_id, token, codes)


def failures(run: Run, expected: str = "admitted") -> int:
    """Scans not answered `expected`: `admitted` for fresh tickets, each scanned once (made
    now: an answer `repeated` means two scans shared a scan_id)."""
    failed = 0
    for call in run.calls:
        try:
            answer = json.loads(call.body)
            ok = (call.status == 200 and answer["result"] == expected
                  and not answer.get("repeated", False))
        except (ValueError, KeyError, TypeError):
            ok = False
        failed += not ok
    return failed


def count_admissions(url: str, instance: Path, gate: Prepared) -> tuple[int, int]:
    """(tickets let in, admission rows): both must equal the scans answered."""
    from sqlalchemy import func, select

    from qmevents.extensions import db
    from qmevents.models import Admission, Registration

    app = qmevents_app(url, instance)
    with app.app_context():
        tickets = db.session.scalar(select(func.count(Registration.id)).where(
            Registration.event_id == gate.event_id,
            Registration.admitted_people == Registration.party_size))
        rows = db.session.scalar(select(func.count(Admission.id)))
        db.engine.dispose()
    return int(tickets), int(rows)


# --- the bare endpoint: one insert per request --------------------------------------------------


def prepare_bare(url: str, rows: int) -> None:
    """The bare table with as many rows as the door's list has tickets (for `GET /bare-list`)."""
    from bare_app import Row, create_app, db
    from sqlalchemy import insert

    from qmevents.timeutil import utcnow

    app = create_app(url)
    with app.app_context():
        db.create_all()
        now = utcnow()
        db.session.execute(insert(Row), [
            {"name": "市民", "phone": f"137{i:08d}", "party_size": 1 + i % MAX_PARTY,
             "created_at": now} for i in range(rows)])
        db.session.commit()
        db.engine.dispose()


def warm_up(server: Gunicorn, path: str, args: argparse.Namespace,
            headers: dict[str, str] | None = None) -> None:
    """Every worker answers a few requests first: imports, the connection pool, the caches."""
    drive(server.port, [get(path, headers)] * (args.workers * 8), args.workers * 2, 30)


# --- the report ---------------------------------------------------------------------------------


def report(kind: str, levels: list[Level], admitted: tuple[int, int], tickets: int,
           synced: Synced) -> bool:
    rows = []
    for level in levels:
        rows.append(row(f"ours: {level.devices} device(s), check-ins", len(level.ours.calls),
                        level.ours.rate(), level.ours.latencies_ms(), level.ours.server_errors))
        if level.rescans is not None:
            rows.append(row(f"ours: {level.devices} device(s), re-scans",
                            len(level.rescans.calls), level.rescans.rate(),
                            level.rescans.latencies_ms(), level.rescans.server_errors))
        rows.append(row(f"bare: {level.devices} device(s), one insert", len(level.bare.calls),
                        level.bare.rate(), level.bare.latencies_ms(), level.bare.server_errors))
    print_table(f"{kind}: check-ins of unique tickets against the bare endpoint", rows)
    ok = True
    for level in levels:
        ratio = level.ours.rate() / level.bare.rate() if level.bare.rate() else 0.0
        p99 = percentile(level.ours.latencies_ms(), 99)
        p99_bare = percentile(level.bare.latencies_ms(), 99)
        notes = [f"rate ratio ours/bare {ratio:.2f}", f"p99 ratio {p99 / p99_bare:.2f}"]
        if level.devices in (8, 32):
            notes.append(f"target {TARGET_RATE}: " + ("met" if ratio >= TARGET_RATE else
                                                      f"not met by {TARGET_RATE - ratio:.2f}"))
        if level.devices == 8:
            notes.append(f"p99 target {TARGET_P99}x: " + (
                "met" if p99 <= TARGET_P99 * p99_bare
                else f"not met by {p99 / p99_bare - TARGET_P99:.2f}x"))
        if level.rescans is not None:
            scan_ms, rescan_ms = level.cpu_ms()
            notes.append(f"server CPU per request: scan {scan_ms:.2f} ms, re-scan "
                         f"{rescan_ms:.2f} ms, re-scan ≤ scan: "
                         + ("met" if rescan_ms <= scan_ms else "not met"))
        if level.devices == 1:
            p50 = percentile(level.ours.latencies_ms(), 50)
            notes.append(f"p50 {p50:.1f} ms, target < {TARGET_P50_MS:.0f} ms: "
                         + ("met" if p50 < TARGET_P50_MS else "NOT met"))
        notes.append(f"failed scans {level.failed}")
        print(f"  {level.devices:>2} device(s): " + "; ".join(notes))
        ok &= not (level.failed or level.ours.server_errors or level.bare.server_errors
                   or (level.rescans is not None and level.rescans.server_errors))
    single, batched = synced.rates()
    if synced.single_scans or synced.batch_scans:
        print(f"  sync, {synced.devices} devices: single scans with a scan_id {single:.0f}/s "
              f"({synced.single_scans}); batches of {synced.size} {batched:.0f} scans/s "
              f"({synced.batch_scans} in {len(synced.batches.calls)} requests); ratio "
              f"batch/single {batched / single if single else 0:.2f}; failed scans "
              f"{synced.failed}")
    ok &= not synced.failed and not synced.single.server_errors \
        and not synced.batches.server_errors
    answered = sum(len(level.ours.calls) for level in levels)
    answered_synced = synced.single_scans + synced.batch_scans
    let_in, rows_written = admitted
    tickets += answered_synced
    answered += answered_synced
    print(f"  tickets let in {let_in}, admissions written {rows_written}, scans answered "
          f"{answered} of {tickets}: " + ("each exactly once" if let_in == rows_written == answered
                                          else "MISMATCH"))
    cpu = ", ".join(f"{level.ours.client_cpu / level.ours.wall:.0%}" for level in levels)
    print(f"  client CPU during ours (share of one core, per level): {cpu}")
    return ok and let_in == rows_written == answered


def report_list(kind: str, listed: ListFigures) -> bool:
    runs = ((f"ours: door list, {listed.tickets} tickets, JSON", listed.full_json),
            (f"ours: door list, {listed.tickets} tickets, gzip", listed.full_gzip),
            (f"ours: door list delta, {listed.delta_tickets} changed, gzip", listed.delta),
            (f"bare: {listed.tickets} rows as JSON", listed.bare))
    print_table(f"{kind}: the door's ticket list, one device, against the bare list",
                [row(name, len(run.calls), run.rate(), run.latencies_ms(), run.server_errors)
                 for name, run in runs])
    bare_ms = percentile(listed.bare.latencies_ms(), 50)
    full_ms = percentile(listed.full_json.latencies_ms(), 50)
    gzip_ms = percentile(listed.full_gzip.latencies_ms(), 50)
    delta_ms = percentile(listed.delta.latencies_ms(), 50)
    print(f"  bytes: JSON {listed.json_bytes:,}, gzip {listed.gzip_bytes:,} "
          f"({listed.gzip_bytes / max(listed.json_bytes, 1):.2f} of JSON), delta gzip "
          f"{listed.delta_bytes:,}; bare list JSON {listed.bare_bytes:,} "
          f"(ours/bare {listed.json_bytes / max(listed.bare_bytes, 1):.2f})")
    print(f"  p50 ms: whole list JSON {full_ms:.1f}, gzip {gzip_ms:.1f}, delta {delta_ms:.1f}; "
          f"bare list {bare_ms:.1f}; ratios ours/bare: JSON {full_ms / bare_ms:.2f}, "
          f"gzip {gzip_ms / bare_ms:.2f}, delta {delta_ms / bare_ms:.2f}")
    if kind == "sqlite":
        print(f"  whole list target < {TARGET_LIST_MS:.0f} ms at p50: "
              + ("met" if full_ms < TARGET_LIST_MS and gzip_ms < TARGET_LIST_MS else "NOT met"))
    print(f"  failed downloads or scans between them: {listed.failed}")
    return not listed.failed and listed.delta_tickets >= DELTA_SCANS


if __name__ == "__main__":
    sys.exit(main())
