"""The door as an installable web app that opens and scans with no network: its service worker
(/door/sw.js, whose scope is the door) and its manifest.

The worker's source is static/js/door-sw.js; this view puts on its first line what it must cache
(the door's scripts, styles, decoder and icons, found on disk, so a new module under
static/js/door/ is cached without a list to update) and a version: a hash of those files, so a
deploy that changes one of them installs a fresh cache.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from flask import Response, current_app, url_for
from flask_babel import gettext as _

from .blueprint import bp

# What the scanner and the kiosk load, relative to static/: the worker caches these at install.
DOOR_FILES = ("css/site.css", "css/door.css", "css/kiosk.css", "js/scanner.js", "js/kiosk.js",
              "js/door/*.js", "vendor/barcode-detector/*.js", "vendor/zxing-wasm/*.wasm",
              "img/icon-*.png")


@functools.cache
def _door_files(static_folder: str) -> tuple[tuple[str, ...], str]:
    """The door's static files (relative names) and a hash of their contents and of the worker's
    source: read once per process (a deploy restarts the workers)."""
    root = Path(static_folder)
    names = sorted({str(path.relative_to(root)) for pattern in DOOR_FILES
                    for path in root.glob(pattern) if path.is_file()})
    digest = hashlib.sha256()
    for name in [*names, "js/door-sw.js"]:
        digest.update(name.encode())
        digest.update((root / name).read_bytes())
    return tuple(names), digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker():
    names, version = _door_files(current_app.static_folder)
    settings = {
        "version": version,
        # Plain names (the scripts import each other so); the worker finds a page's hashed name
        # (qmevents/staticfiles.py) under its plain one.
        "precache": [url_for("static", filename=name, fingerprint=False) for name in names],
        "offlineTitle": _("The door page is not on this phone yet"),
        "offlineText": _("Open the scanner once with a network connection; after that it opens "
                         "without one."),
    }
    source = Path(current_app.static_folder, "js", "door-sw.js").read_text(encoding="utf-8")
    body = f"self.QM_DOOR = {json.dumps(settings, ensure_ascii=False)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    # The browser checks for a new worker on each visit; the scope is the whole door.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = url_for(".index")
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    icons = [{"src": url_for("static", filename=f"img/icon-{size}.png"),
              "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any maskable"}
             for size in (192, 512)]
    body = {
        "name": _("Quality Month door"),
        "short_name": _("Door"),
        "description": _("Scan tickets at the door, with or without a network."),
        "start_url": url_for(".index"),
        "scope": url_for(".index"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#b3001b",
        "icons": icons,
    }
    response = Response(json.dumps(body, ensure_ascii=False),
                        mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
