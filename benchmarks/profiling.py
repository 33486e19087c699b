"""The measuring of benchmarks/hot_paths.py: a meter of CPU and wall time that can switch a
profiler on and off around each request, the app called as a WSGI server calls it, and what a
cProfile profile says by area. Every function's own time counts to the area of the package its
code belongs to, read from the code's file (a template's compiled code runs as code of the
template's file) or, for C code, from the module its description names (`<method 'execute' of
'sqlite3.Cursor' objects>`); the standard library's and the built-ins' to their callers' areas."""
from __future__ import annotations

import cProfile
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parents[1]

AREAS = ("SQL & ORM", "DB driver", "templates", "i18n", "forms", "werkzeug/flask",
         "hashing/crypto", "qrcode/PIL", "compression", "qmevents", "other")
PACKAGES = {
    "SQL & ORM": "sqlalchemy flask_sqlalchemy",
    # select and socket: psycopg waiting for the server's answer
    "DB driver": "sqlite3 _sqlite3 psycopg psycopg_binary psycopg_c psycopg_pool select _socket "
                 "socket selectors",
    "templates": "jinja2 markupsafe",
    "i18n": "babel flask_babel gettext",
    "forms": "wtforms flask_wtf",
    "werkzeug/flask": "werkzeug flask flask_login flask_limiter limits flask_caching cachelib "
                      "blinker",
    "hashing/crypto": "hashlib _hashlib hmac _hmac argon2 _argon2_cffi_bindings itsdangerous "
                      "secrets _blake2 _sha2 _sha256",
    "qrcode/PIL": "qrcode PIL",
    "compression": "gzip zlib brotli _brotli flask_compress",
}
AREA_OF = {package: area for area, packages in PACKAGES.items() for package in packages.split()}
# Left out of the top functions: every request runs through them (decorators included).
PLUMBING = {"werkzeug", "flask", "flask_limiter", "flask_login"}
BUILTIN = re.compile(r"of '([\w.]+)' objects|<built-in method ([\w.]+)>")
_PATHS = sorted((p.rstrip("/") for p in sys.path if p), key=len, reverse=True)


class Meter:
    """Counts CPU and wall time only inside `meter(fn)`, profiling it when given a profiler:
    what a step does between its requests (reading a texted code) stays out of the figures."""

    def __init__(self, profiler: cProfile.Profile | None = None) -> None:
        self.cpu = self.wall = 0.0
        self.profiler = profiler

    def __call__(self, request: Callable):
        if self.profiler:
            self.profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return request()
        finally:
            self.cpu += time.process_time() - cpu
            self.wall += time.perf_counter() - wall
            if self.profiler:
                self.profiler.disable()


@dataclass
class Answer:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> dict:
        try:
            found = json.loads(self.body)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


class Wsgi:
    """The app called as gunicorn calls it. The request's environ is built beforehand with
    Werkzeug's EnvironBuilder (what Flask's test client uses) and the meter runs from the call
    to the last byte of the body: what the test client does around it is not the server's."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, meter: Meter, path: str, body: dict | None = None,
                 headers: dict[str, str] | None = None) -> Answer:
        environ = EnvironBuilder(path=path, method="GET" if body is None else "POST",
                                 headers=headers, json=body).get_environ()
        return meter(lambda: self.call(environ))

    def call(self, environ: dict) -> Answer:
        started: list = []
        chunks = self.app(environ, lambda status, headers, exc_info=None:
                          started.extend((status, headers)))
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return Answer(int(started[0][:3]), Headers(started[1]), body)


# --- the profile by area --------------------------------------------------------------------------


def area(filename: str, function: str) -> str:
    """The area a function's own time counts to."""
    if filename == "~":  # C code
        found = BUILTIN.search(function)
        name = next((g for g in found.groups() if g), "") if found else ""
        return AREA_OF.get(name.split(".")[0], "other") if "." in name else "other"
    if filename.endswith((".html", ".txt", ".svg")) or filename == "<template>":
        return "templates"
    if Path(filename).is_relative_to(ROOT / "qmevents"):
        return "qmevents"
    return AREA_OF.get(package(filename), "other")


def package(filename: str) -> str:
    """The top-level package (or module) a file belongs to, from the import path."""
    for folder in _PATHS:
        if filename.startswith(folder + "/"):
            return filename[len(folder) + 1:].split("/")[0].removesuffix(".py")
    return ""


def shares(stats: dict) -> dict[str, float]:
    """Each area's share of the profiled time in %, from `pstats.Stats(…).stats`. The standard
    library and the built-ins (`isinstance`, `dict.get`, `json`…) belong to no area: their time
    counts to the areas of the code that called them, in proportion (through up to LIFT callers
    that belong to none either); "other" is what is left."""
    own = dict.fromkeys(AREAS, 0.0)
    found: dict[tuple, dict[str, float]] = {}
    for key, (_cc, _nc, tottime, _ct, _callers) in stats.items():
        if "_lsprof.Profiler" not in key[2]:
            for name, part in _split(key, stats, LIFT, found).items():
                own[name] += tottime * part
    total = sum(own.values()) or 1.0
    return {name: 100 * seconds / total for name, seconds in own.items()}


LIFT = 4


def _split(key: tuple, stats: dict, depth: int, found: dict) -> dict[str, float]:
    """{area: part} of a function's own time, its callers' areas for one that has none."""
    if key in found:
        return found[key]
    name = area(key[0], key[2])
    callers = stats[key][4] if key in stats else {}
    total = sum(timing[2] for timing in callers.values())
    if name != "other" or depth == 0 or not total:
        return found.setdefault(key, {name: 1.0})
    found[key] = {"other": 1.0}  # while its callers are looked at: a cycle stays "other"
    parts: dict[str, float] = {}
    for caller, timing in callers.items():
        for caller_area, part in _split(caller, stats, depth - 1, found).items():
            parts[caller_area] = parts.get(caller_area, 0.0) + part * timing[2] / total
    found[key] = parts
    return parts


def top(stats: dict, count: int, requests: int) -> list[str]:
    """The `count` functions with the most cumulative time per request, below the request
    plumbing (Werkzeug's and Flask's own frames, and the benchmark's) that every one runs in. A
    function within 5% of the one listed before it is left out: most likely the same work seen
    one frame deeper (a view, then the template it renders)."""
    lines: list[str] = []
    ranked = sorted(stats.items(), key=lambda item: item[1][3], reverse=True)
    last = float("inf")
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in ranked:
        if len(lines) >= count:
            break
        if package(filename) in PLUMBING or "_lsprof" in function or \
                Path(filename).parent == ROOT / "benchmarks" or cumtime >= 0.95 * last:
            continue
        last = cumtime
        lines.append(f"{cumtime * 1000 / requests:7.2f} ms cumulative, "
                     f"{tottime * 1000 / requests:6.2f} ms own, {calls / requests:5.1f} calls: "
                     f"{function} ({short(filename)}:{line})")
    return lines


def short(filename: str) -> str:
    """A file's name as a reader finds it: from the repository or from the import path."""
    for folder in (str(ROOT), *_PATHS):
        if filename.startswith(folder + "/"):
            return filename[len(folder) + 1:]
    return filename
