"""The door as an installable app: its service worker caches everything the scanner needs to open
and scan with no network (tests/browser/test_door_installable.py opens it offline), and its
manifest lets a phone add it to the home screen."""
from __future__ import annotations

import json
from pathlib import Path

from qmevents import ROOT

from .conftest import login
from .test_door_pages import door_scene, scanner_url


def worker_settings(client) -> tuple[dict, str, object]:
    response = client.get("/door/sw.js")
    assert response.status_code == 200
    first, _, rest = response.get_data(as_text=True).partition("\n")
    assert first.startswith("self.QM_DOOR = ") and first.endswith(";")
    return json.loads(first[len("self.QM_DOOR = "):-1]), rest, response


def test_the_worker_is_served_for_the_whole_door_and_checked_on_each_visit(client):
    settings, source, response = worker_settings(client)
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/door/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert source == (ROOT / "static/js/door-sw.js").read_text(encoding="utf-8")
    assert len(settings["version"]) == 16
    assert settings["offlineTitle"]  # words for a phone that never opened the door online


def test_it_caches_every_file_the_scanner_loads_and_each_one_exists(client):
    settings, _source, _response = worker_settings(client)
    cached = set(settings["precache"])
    for name in ("css/site.css", "css/door.css", "js/scanner.js", "js/door/api.js",
                 "js/door/decoder.js", "js/door/worker.js", "img/icon-192.png",
                 "vendor/barcode-detector/ponyfill.js", "vendor/zxing-wasm/zxing_reader.wasm"):
        assert f"/static/{name}" in cached, name
    # Every module the door's scripts import is cached: nothing is missing offline.
    for path in (ROOT / "static/js/door").glob("*.js"):
        assert f"/static/js/door/{path.name}" in cached
    for url in cached:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_the_version_follows_the_files(app, client, tmp_path, monkeypatch):
    """A deploy that changes a door file changes the version, so phones install a fresh cache."""
    from qmevents.door import app as door_app

    first, _source, _response = worker_settings(client)
    static = tmp_path / "static"
    for name in ("js/door-sw.js", "js/scanner.js", "css/door.css"):
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes((Path(app.static_folder) / name).read_bytes())
    assert door_app._door_files(str(static))[1] != first["version"]  # fewer files
    before = door_app._door_files(str(static))[1]
    (static / "js/scanner.js").write_text("// changed\n")
    door_app._door_files.cache_clear()
    assert door_app._door_files(str(static))[1] != before


def test_the_manifest_names_the_door_in_chinese_with_icons(client):
    response = client.get("/door/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["start_url"] == manifest["scope"] == "/door/"
    assert manifest["display"] == "standalone"
    assert "签到" in manifest["name"] or "门" in manifest["name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_door_pages_link_the_manifest_and_register_the_worker(app, factory, client):
    scene = door_scene(app, factory)
    login(client, scene.staff_email)
    for url in (scanner_url(scene), "/door/"):
        page = client.get(url).get_data(as_text=True)
        assert '<link rel="manifest" href="/door/manifest.webmanifest">' in page
        assert 'name="qm-door-worker" content="/door/sw.js" data-scope="/door/"' in page
