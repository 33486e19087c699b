"""The real app under gunicorn with several worker processes on a free loopback port, for tests
of races across workers and for benchmarks. Traffic stays on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], workers: int = 4,
                 worker_class: str = "sync", threads: int = 1) -> None:
        self.app = app
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/", timeout: float = 30) -> Gunicorn:
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--worker-class", self.worker_class,
               "--threads", str(self.threads), "--backlog", "2048", "--timeout", "60",
               "--log-level", "warning", self.app]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.process.stderr.read().decode()[-2000:])
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as response:
                    if response.status < 500:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
