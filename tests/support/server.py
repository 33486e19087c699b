"""The real app under gunicorn with several worker processes on a free loopback port, for tests
of races across workers and for benchmarks. Traffic stays on 127.0.0.1."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]


def app_env(instance: Path, database_url: str) -> dict[str, str]:
    """What the app's workers need: their own instance folder and database, a fixed secret, and
    no rate limits (every client of a load test shares one address)."""
    return {"QMEVENTS_INSTANCE": str(instance), "DATABASE_URL": database_url,
            "FLASK_SECRET_KEY": "load-test-secret", "FLASK_RATELIMIT_ENABLED": "false"}


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], workers: int = 4,
                 worker_class: str = "sync", threads: int = 1, own_group: bool = False) -> None:
        self.app = app
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        # A process group of its own (master and workers), so that `kill` can take all of them
        # down at once, as a power cut or the OOM killer would, and nothing else.
        self.own_group = own_group
        self.process: subprocess.Popen | None = None
        # A file, not a pipe: a pipe nobody reads fills up and stalls the workers' logging.
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 30) -> Gunicorn:
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--worker-class", self.worker_class,
               "--threads", str(self.threads), "--backlog", "2048", "--timeout", "60",
               "--log-level", "warning", self.app]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=self.log,
                                        start_new_session=self.own_group)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.errors())
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as response:
                    if response.status < 500:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer in time: " + self.errors())

    def errors(self, tail: int = 4000) -> str:
        """The end of what gunicorn and the app logged: tracebacks of any 500."""
        return Path(self.log.name).read_text(errors="replace")[-tail:]

    def post_json(self, path: str, body: Any, timeout: float = 30) -> tuple[int, Any]:
        """One POST on a new connection, as a phone would send it: (status, decoded JSON)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("POST", path, body=json.dumps(body),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw or b"null")
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def kill(self, timeout: float = 10) -> None:
        """SIGKILL to the master and every worker at once (needs `own_group`): no request is
        finished, no transaction committed by a goodbye, no socket closed politely. Returns once
        the port refuses connections."""
        assert self.own_group and self.process, "kill needs a server started with own_group"
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"port {self.port} still answers after SIGKILL")

    def restart(self, ready_path: str = "/", timeout: float = 30) -> Gunicorn:
        """Start again after `kill`, on the same port and database, as a supervisor would."""
        assert self.process is None or self.process.poll() is not None, "still running"
        return self.start(ready_path, timeout)

    def stop(self) -> None:
        """Quick shutdown (SIGINT): by now no request is in flight, and a graceful one costs
        about a second per server."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)

    def __enter__(self) -> Gunicorn:
        return self if self.process else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
