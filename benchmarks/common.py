"""What every benchmark shares: a database of either kind, the app under gunicorn on loopback, a
load client, percentiles and the printed table.

The client is deliberately cheap: each request is prebuilt bytes sent on a fresh loopback
connection (gunicorn's sync workers close the connection after every answer anyway), and only
the status line is parsed while the clock runs. Its own CPU time is measured, so a run can say
whether the client, rather than the server, was the limit.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.pgserver import PostgresServer  # noqa: E402
from tests.support.server import Gunicorn, app_env  # noqa: E402

__all__ = ["ROOT", "Gunicorn", "app_env", "databases", "Call", "Run", "drive", "get", "post",
           "percentile", "print_table", "post_form", "browser_session", "sign_in",
           "markdown_table", "tree_cpu", "postmaster", "SmsInbox", "verified", "qmevents_app",
           "publish_open_day"]

DB_KINDS = ("sqlite", "postgresql")


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def databases(kind: str) -> Iterator[Callable[[str], str]]:
    """A factory of fresh, empty databases of one kind: `new(name) -> URL`. SQLite files live in
    a temporary folder; PostgreSQL is a throwaway server on loopback, stopped afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="qmevents-bench-"))
    server = PostgresServer().start() if kind == "postgresql" else None
    try:
        if server is None:
            yield lambda name: f"sqlite:///{folder / (name + '.sqlite3')}"
        else:
            yield server.create_database
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --- the client ---------------------------------------------------------------------------------


def post(path: str, body: object, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 POST of `body` as JSON, ready to send, with any extra `headers`
    (e.g. a device's `Authorization: Bearer …`)."""
    payload = json.dumps(body).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{extra}Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    return head + payload


def get(path: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 GET, ready to send."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
            "Connection: close\r\n\r\n").encode()


@dataclass
class Call:
    index: int
    status: int
    seconds: float  # latency, connect to last byte
    finished: float  # since the start of the run
    body: bytes = b""


@dataclass
class Run:
    name: str
    wall: float
    client_cpu: float  # CPU seconds the client process used during the run
    calls: list[Call] = field(default_factory=list)

    @property
    def statuses(self) -> Counter:
        return Counter(c.status for c in self.calls)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    def rate(self, calls: list[Call] | None = None) -> float:
        """Answers per second; for a subset, over the time until its last answer came."""
        if calls is None:
            return len(self.calls) / self.wall if self.wall else 0.0
        end = max((c.finished for c in calls), default=0.0)
        return len(calls) / end if end else 0.0

    def latencies_ms(self, calls: list[Call] | None = None) -> list[float]:
        return sorted(c.seconds * 1000 for c in (self.calls if calls is None else calls))


Step = Callable[[int], tuple[int, bytes]]  # several exchanges as one, e.g. `verified`


def drive(port: int, requests: list[bytes | Step], clients: int, seconds: float,
          name: str = "") -> Run:
    """Send `requests` from `clients` threads as fast as answers come back, each request once,
    until all are answered or `seconds` have passed. Loopback only. A request is prebuilt bytes,
    or a step that makes its own exchanges (`port` in, the last answer out): its latency is the
    whole step's."""
    next_index = itertools.count().__next__  # atomic under the GIL: each request goes once
    calls: list[Call] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]
    t0 = [0.0]

    def client() -> None:
        mine: list[Call] = []
        start_gate.wait()
        while time.perf_counter() < deadline[0]:
            i = next_index()
            if i >= len(requests):
                break
            began = time.perf_counter()
            request = requests[i]
            status, body = request(port) if callable(request) else _exchange(port, request)
            ended = time.perf_counter()
            mine.append(Call(i, status, ended - began, ended - t0[0], body))
        with lock:
            calls.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    cpu0 = time.process_time()
    t0[0] = time.perf_counter()
    deadline[0] = t0[0] + seconds
    start_gate.wait()
    for thread in threads:
        thread.join(seconds + 60)
    wall = time.perf_counter() - t0[0]
    return Run(name, wall, time.process_time() - cpu0, sorted(calls, key=lambda c: c.index))


def _exchange(port: int, raw: bytes) -> tuple[int, bytes]:
    """(status, body) of one request on a new connection; status 0 when the connection failed."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(raw)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
    except OSError:
        return 0, b""
    answer = b"".join(chunks)
    try:
        status = int(answer[9:12])
    except ValueError:
        return 0, answer
    return status, answer.partition(b"\r\n\r\n")[2]


# --- phone verification: the SMS provider, played on loopback ------------------------------------


class SmsInbox:
    """A stand-in for the SMS provider's HTTP API on loopback, which keeps the newest
    registration code texted to each phone, so that a benchmark's citizens read their code as a
    phone would. The app sends to it with its real `sms` backend (FLASK_NOTIFY_BACKEND=sms) in
    the background thread it uses in production: the verification is counted, not switched off.
    """

    CODE = re.compile(rb"\d{6}")

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        inbox = self
        self.codes: dict[str, str] = {}
        self.arrived = threading.Condition()

        class Provider(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                message = json.loads(body or b"{}")
                text = message.get("text", "").encode()
                if "验证码".encode() in text and (found := inbox.CODE.search(text)):
                    with inbox.arrived:
                        inbox.codes[message.get("to", "")] = found.group().decode()
                        inbox.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def env(self) -> dict[str, str]:
        """What the app's workers need to text through this inbox."""
        return {"FLASK_NOTIFY_BACKEND": "sms",
                "FLASK_SMS_API_URL": f"http://127.0.0.1:{self.server.server_port}/sms"}

    def code_for(self, phone: str, timeout: float = 10.0) -> str | None:
        """Wait for the phone's code and take it (a code works once)."""
        with self.arrived:
            self.arrived.wait_for(lambda: phone in self.codes, timeout)
            return self.codes.pop(phone, None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verified(ask: bytes, register: Callable[[str], bytes], phone: str,
             inbox: SmsInbox) -> Step:
    """A registration as a phone makes it where the event verifies phones: ask for the code
    (the API's POST /phone-codes or the form's 获取验证码), read it off the phone, register with
    it. One step: its latency is all three; its answer the registration's."""

    def step(port: int) -> tuple[int, bytes]:
        status, body = _exchange(port, ask)
        if status not in (200, 202):
            return status, body
        code = inbox.code_for(phone)
        if code is None:
            return 0, b"no code arrived"
        return _exchange(port, register(code))

    return step


# --- the app, outside the clock -----------------------------------------------------------------


def qmevents_app(url: str, instance: Path, **config):
    """The app on the benchmark's database, for loading and checking outside the clock."""
    os.environ["QMEVENTS_INSTANCE"] = str(instance)
    from qmevents import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load-test-secret",
                       **config})


def publish_open_day(capacity: int, max_party: int):
    """In an app context: the Jiading bureau's published open day, a week ahead, one session of
    `capacity` places, first come first served, phones verified (the default)."""
    from datetime import timedelta

    from qmevents.extensions import db
    from qmevents.services import accounts, events
    from qmevents.timeutil import utcnow

    org = accounts.find_or_create_organisation("嘉定区市场监督管理局", "嘉定区")
    db.session.commit()
    start = (utcnow() + timedelta(days=7)).replace(second=0, microsecond=0)
    draft = events.EventDraft(
        title="威派格智慧水务质量开放日", kind="open_day", district="嘉定区",
        venue="威派格智慧水务", max_party_size=max_party, checkpoints=["入口"],
        sessions=[events.SessionDraft(starts_at=start, ends_at=start + timedelta(hours=2),
                                      capacity=capacity)])
    return events.create_event(org.id, draft, publish=True)


# --- numbers and the table ----------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return float("nan")
    rank = max(int(round(p / 100 * len(ordered) + 0.5)) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


def row(label: str, count: int, rate: float, latencies: list[float], errors: int) -> list[str]:
    return [label, str(count), f"{rate:.0f}",
            *(f"{percentile(latencies, p):.1f}" for p in (50, 95, 99)), str(errors)]


def print_table(title: str, rows: list[list[str]]) -> None:
    header = ["", "answers", "per s", "p50 ms", "p95 ms", "p99 ms", "5xx"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, *rows]:
        print("  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(r, widths, strict=True))))


# --- diagnostics --------------------------------------------------------------------------------


def app_without_messages():
    """The real app with the message after registering switched off, for gunicorn
    (`benchmarks.common:app_without_messages()`): a diagnostic row that shows what the in-request
    notification costs. Never what citizens get."""
    from qmevents import create_app
    from qmevents.services.messaging import outbox as notify

    notify.registration_confirmed = lambda registration, ticket_url: None
    return create_app()


def machine() -> str:
    """The machine, and a warning when something else is already using it: on 2 cores another
    test run halves every figure, so such a run's numbers say little."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    busy = f"  WARNING: load average {load:.1f} before starting: figures will be low and noisy" \
        if load > cores else ""
    return f"{cores} cores, load {load:.1f}, Python {sys.version.split()[0]}{busy}"


# --- forms and signed-in browsers (mixed.py) ----------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def post_form(path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 POST of an HTML form (urlencoded), ready to send."""
    payload = urlencode(fields).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"{extra}Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    return head + payload


class _Stay(HTTPRedirectHandler):
    """Keep the redirect as the answer: after a sign-in it is the 302, not the next page."""

    def redirect_request(self, *args, **kwargs):
        return None


def browser_session(port: int, page: str) -> tuple[str, str]:
    """What a browser holds after opening `page`, a page with a form: (the `Cookie` header to
    send back, the form's CSRF token). Outside the clock: `urllib`, a cookie jar."""
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar), _Stay)
    with opener.open(f"http://127.0.0.1:{port}{page}", timeout=30) as answer:
        html = answer.read().decode(errors="replace")
    match = CSRF_FIELD.search(html)
    if match is None:
        raise RuntimeError(f"{page} has no CSRF token")
    return _cookie_header(jar), match.group(1)


def sign_in(port: int, email: str, password: str) -> str:
    """Sign in through /login as a person would; the `Cookie` header of the signed-in browser."""
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar), _Stay)
    base = f"http://127.0.0.1:{port}"
    with opener.open(base + "/login", timeout=30) as answer:
        token = CSRF_FIELD.search(answer.read().decode(errors="replace"))
    if token is None:
        raise RuntimeError("/login has no CSRF token")
    body = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
    try:
        opener.open(base + "/login", data=body.encode(), timeout=30).close()
        status = 200  # not a redirect: the form came back with an error
    except HTTPError as answer:
        status = answer.code
    if status != 302:
        raise RuntimeError(f"signing in as {email} answered {status}, not 302")
    return _cookie_header(jar)


def _cookie_header(jar: CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A table to paste into Markdown: first column left-aligned, figures right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# --- CPU spent by the servers (mixed.py) --------------------------------------------------------


def _processes() -> dict[int, tuple[int, float]]:
    """{pid: (parent pid, CPU seconds of the process and its reaped children)} from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        # after the name: state, ppid, … utime, stime, cutime, cstime are fields 14-17 of stat
        found[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / tick)
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by process `root` and all its descendants (gunicorn's master and
    workers; PostgreSQL's postmaster and backends), those that exited included. On a shared
    machine the difference over a run says what the run cost, whatever else was running."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += processes.get(pid, (0, 0.0))[1]
        todo += children.get(pid, [])
    return total


def postmaster(port: int) -> int | None:
    """The pid of the PostgreSQL server listening on `port` (one we started: `-p <port>`)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and b"-p" in args and \
                args[args.index(b"-p") + 1:][:1] == [str(port).encode()]:
            return int(entry.name)
    return None
