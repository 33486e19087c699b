"""Static files under a name that carries their content's hash, cached by browsers for a year.

Every `url_for("static", filename="css/site.css")` (templates and code alike) yields
`/static/css/site.<10 hex>.css`, with no build step: an app-wide url_defaults rewrites the name.
The hash is the file's SHA-256, computed once per file and process (a deploy restarts the
workers); in debug a changed modification time computes it again.

What the static route answers:
- the hashed name of the file as it is now: the file, `public, max-age=31536000, immutable`;
- the plain name (old pages, the door's scripts importing each other, the decoder's files): the
  file with Flask's usual short caching (`no-cache`: revalidated with its ETag);
- a hash that is not the file's (a page from before a deploy, a typo): the current file with the
  plain name's short caching, never a year's, so a wrong answer is never kept;
- anything outside static/ (`..`): 404, as safe_join and send_from_directory decide.

The door's service worker (static/js/door-sw.js) keeps the plain names and finds a hashed name
under its plain one with the same pattern as NAME below: a change to the name's form changes both.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from typing import Any

from flask import Flask, Response, current_app, send_from_directory
from werkzeug.security import safe_join

YEAR = 31536000
DIGEST_LENGTH = 10
# "css/site.3f2a9b1c0d.css": the plain name's stem, the hash, the plain name's extension.
NAME = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[^./]+)$")


class Fingerprints:
    """The hash of each static file, memoised: (modification time, hash) per relative name.
    Only files that exist are remembered, so requests for made-up names cannot fill it."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[int, str]] = {}

    def digest(self, filename: str, recheck: bool = False) -> str | None:
        """The file's hash, or None when `filename` is no file under the folder."""
        known = self._known.get(filename)
        if known is not None and not recheck:
            return known[1]
        status = self.status(filename)
        if status is None:
            self._known.pop(filename, None)
            return None
        if known is not None and known[0] == status.st_mtime_ns:
            return known[1]
        path = os.path.join(self.folder, filename)
        digest = _file_digest(path)
        self._known[filename] = (status.st_mtime_ns, digest)
        return digest

    def status(self, filename: str) -> os.stat_result | None:
        """os.stat of a regular file under the folder, or None (missing, a folder, outside)."""
        path = safe_join(self.folder, filename)
        try:
            status = os.stat(path) if path else None
        except (OSError, ValueError):  # ValueError: a NUL in the name
            return None
        return status if status is not None and stat.S_ISREG(status.st_mode) else None


def _file_digest(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(65536), b""):
            sha.update(block)
    return sha.hexdigest()[:DIGEST_LENGTH]


def hashed_name(filename: str, digest: str) -> str:
    """`css/site.css` → `css/site.<digest>.css`; a name without an extension keeps its name."""
    stem, suffix = posixpath.splitext(filename)
    if not suffix or not posixpath.basename(stem):
        return filename
    return f"{stem}.{digest}{suffix}"


def fingerprints(app: Flask) -> Fingerprints:
    return app.extensions["qmevents.staticfiles"]


def register(app: Flask) -> None:
    """Rewrite every static URL to its hashed name and serve both names from static/."""
    if not app.has_static_folder:
        return
    app.extensions["qmevents.staticfiles"] = Fingerprints(str(app.static_folder))
    app.url_defaults(_fingerprint_url)
    app.view_functions["static"] = serve


def _fingerprint_url(endpoint: str, values: dict[str, Any]) -> None:
    """url_for("static", filename=…) names the hashed file; `fingerprint=False` the plain one
    (the door's service worker caches plain names)."""
    if endpoint != "static":
        return
    if not values.pop("fingerprint", True):
        return
    filename = values.get("filename")
    if not isinstance(filename, str):
        return
    digest = fingerprints(current_app).digest(filename, recheck=current_app.debug)
    if digest is not None:
        values["filename"] = hashed_name(filename, digest)


def serve(filename: str) -> Response:
    """The static route's view (see the module's docstring for its answers)."""
    app = current_app
    folder = str(app.static_folder)
    found = NAME.match(filename)
    if found and fingerprints(app).status(filename) is None:  # not a file named so itself
        plain = found["stem"] + found["suffix"]
        digest = fingerprints(app).digest(plain, recheck=app.debug)
        if digest == found["digest"]:
            response = send_from_directory(folder, plain, max_age=YEAR)
            response.cache_control.immutable = True
            return _compressible(response)
        filename = plain  # a hash that is not the file's: the plain name's short caching
    return _compressible(app.send_static_file(filename))


def _compressible(response: Response) -> Response:
    """A text file is handed over as bytes, not streamed from disk, so that Flask-Compress
    (which leaves streamed answers alone: COMPRESS_STREAMS is off for the exports' sake)
    compresses it. Images, the decoder's wasm and the rest stay streamed."""
    if (response.status_code == 200
            and response.mimetype in current_app.config.get("COMPRESS_MIMETYPES", ())):
        response.direct_passthrough = False
        response.make_sequence()
    return response
