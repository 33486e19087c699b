"""Static files under a hashed name kept by browsers for a year, the plain name still served,
and compressed answers (qmevents/staticfiles.py, Flask-Compress): what a phone receives."""
from __future__ import annotations

import gzip
import os
import re
import uuid

import brotli
import pytest
from flask import url_for

from qmevents import ROOT

from .test_exports import excel_rows, scanned  # noqa: F401  (the fixture)

YEAR = "max-age=31536000"


def stylesheet(client) -> str:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'<link rel="stylesheet" href="(/static/css/site\.[0-9a-f]{10}\.css)"', page)
    assert found, "the page's stylesheet carries no hash"
    return found.group(1)


def test_the_pages_stylesheet_carries_the_hash_of_its_contents(client):
    assert stylesheet(client) != "/static/css/site.css"


def test_the_hashed_stylesheet_is_the_file_kept_for_a_year(client):
    response = client.get(stylesheet(client))
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache and YEAR in cache and "public" in cache
    assert response.data == (ROOT / "static/css/site.css").read_bytes()


def test_the_plain_name_still_answers_but_is_revalidated(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.data == (ROOT / "static/css/site.css").read_bytes()
    assert "immutable" not in response.headers["Cache-Control"]
    assert YEAR not in response.headers["Cache-Control"]
    again = client.get("/static/css/site.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_hash_that_is_not_the_files_is_never_kept_for_a_year(client):
    response = client.get("/static/css/site.0123456789.css")
    assert response.status_code == 200  # the current file, as for its plain name
    assert "immutable" not in response.headers["Cache-Control"]
    assert YEAR not in response.headers["Cache-Control"]
    assert client.get("/static/css/nothing.0123456789.css").status_code == 404


@pytest.mark.parametrize("path", ["/static/../qmevents/config.py",
                                  "/static/css/../../qmevents/config.py",
                                  "/static/css/..%2F..%2Fqmevents/config.py",
                                  "/static/css/../../qmevents/config.0123456789.py",
                                  "/static/%2e%2e/pyproject.toml"])
def test_no_file_outside_static_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.data and b"[project]" not in response.data


def test_the_door_icons_and_scripts_a_page_names_are_hashed_and_served(client):
    manifest = client.get("/door/manifest.webmanifest").get_json(force=True)
    for icon in manifest["icons"]:
        assert re.fullmatch(r"/static/img/icon-\d+\.[0-9a-f]{10}\.png", icon["src"])
        response = client.get(icon["src"])
        assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]
        assert "Content-Encoding" not in response.headers  # a PNG is not compressed again


def test_a_page_comes_back_gzip_to_a_browser_that_takes_it(client):
    plain = client.get("/").data
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == plain
    assert "质量" in plain.decode()


def test_brotli_when_the_browser_prefers_it_and_the_stylesheet_too(client):
    url = stylesheet(client)
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data) == (ROOT / "static/css/site.css").read_bytes()
    assert "immutable" in response.headers["Cache-Control"]


def test_a_page_is_plain_without_accept_encoding(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]  # a shared cache keeps both apart
    assert "质量" in response.get_data(as_text=True)


def test_a_compressed_stylesheet_is_revalidated_with_its_etag(client):
    headers = {"Accept-Encoding": "gzip"}
    first = client.get("/static/css/site.css", headers=headers)
    again = client.get("/static/css/site.css",
                       headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_csv_download_is_the_same_file_when_the_browser_takes_gzip(client, scanned):  # noqa: F811
    url = f"/organiser/events/{scanned['event_id']}/report.csv"
    plain = excel_rows(client.get(url).get_data())  # read to the end, as a browser does
    response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed  # still written as it goes, not gathered to be compressed
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert excel_rows(body) == plain


def test_an_answer_that_is_already_encoded_passes_untouched(app, client):
    """The public pages' cache hands over bodies it compressed itself."""
    body = gzip.compress(b"<!doctype html><p>" + "质量月".encode() * 400)

    @app.get("/already-encoded")
    def already_encoded():
        return body, 200, {"Content-Type": "text/html; charset=utf-8",
                           "Content-Encoding": "gzip"}

    response = client.get("/already-encoded", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.data == body


def test_a_page_with_a_csrf_token_is_never_compressed(client, organiser):
    """BREACH: a secret compressed beside text an attacker chooses leaks through the length."""
    response = client.get("/organiser/", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)
    assert "Content-Encoding" not in response.headers


def test_the_api_answers_json_compressed(client, factory):
    for _ in range(3):
        factory.event()
    plain = client.get("/api/v1/events").data
    assert len(plain) > 500  # above COMPRESS_MIN_SIZE
    response = client.get("/api/v1/events", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == plain


@pytest.mark.parametrize("header", ["gzip;q=0", "br;q=0, gzip;q=0", "identity", "gzip;q=nonsense",
                                    "compress, deflate", ";;,,q=", "\u00e9\u4e2d"])
def test_a_browser_that_refuses_or_garbles_every_coding_gets_the_page_plain(client, header):
    response = client.get("/", headers={"Accept-Encoding": header})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "质量" in response.get_data(as_text=True)


def test_in_debug_an_edited_file_gets_a_new_name_and_the_old_one_is_not_kept(app, client):
    """`flask run --debug`: a stylesheet edited while it runs is linked under its new hash (out
    of debug the hash is computed once per process: a deploy restarts the workers)."""
    path = ROOT / "static" / "css" / f"test-{uuid.uuid4().hex}.css"
    path.write_text("body { color: red; }\n")
    try:
        app.debug = True
        with app.test_request_context():
            before = url_for("static", filename=f"css/{path.name}")
        path.write_text("body { color: blue; }\n")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        with app.test_request_context():
            after = url_for("static", filename=f"css/{path.name}")
        assert before != after and re.search(r"\.[0-9a-f]{10}\.css$", after)
        fresh = client.get(after)
        assert fresh.data == b"body { color: blue; }\n"
        assert "immutable" in fresh.headers["Cache-Control"]
        stale = client.get(before)  # a page from before the edit: today's file, not kept a year
        assert stale.data == b"body { color: blue; }\n"
        assert "immutable" not in stale.headers["Cache-Control"]
    finally:
        path.unlink()
