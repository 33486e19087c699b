"""A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries, a cluster in a
temporary folder, a Unix socket and a loopback port. Run as root, it runs the server as
`postgres`."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The servers this process started, by port: a test that restarts the session's server finds it
# from the URL it was given (`serving`).
_running: dict[int, PostgresServer] = {}


class PostgresServer:
    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="qmevents-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "qmevents"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                        "-c max_connections=200")
        self._pg_ctl_start()
        _running[self.port] = self
        return self

    def _pg_ctl_start(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", self.options,
                  "-l", str(self.root / "log"), "-w", "start")

    @classmethod
    def serving(cls, url: str) -> PostgresServer | None:
        """The server started by this process that `url` points at, if any."""
        from sqlalchemy.engine import make_url

        return _running.get(make_url(url).port)

    def crash_and_restart(self, down_for: float = 0.0, timeout: float = 30) -> float:
        """`pg_ctl stop -m immediate` (every backend killed, no checkpoint: crash recovery at the
        next start, as after a crash), `down_for` seconds without a server, then a start that
        returns once it accepts connections. Returns the seconds it was down. Note fsync=off
        is harmless here (the OS keeps what was written), but a database that must keep every
        acknowledged commit through this needs synchronous_commit=on (ALTER DATABASE … SET)."""
        began = time.monotonic()
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        time.sleep(down_for)
        self._pg_ctl_start()
        self.wait_ready(timeout)
        return time.monotonic() - began

    def wait_ready(self, timeout: float = 30) -> None:
        """Until a real connection and query succeed (pg_ctl -w only saw the socket)."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user,
                                     dbname="postgres", connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", self.user, name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        _running.pop(self.port, None)
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop",
                  check=False)
        for _ in range(50):
            if not (self.data / "postmaster.pid").exists():
                break
            time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
