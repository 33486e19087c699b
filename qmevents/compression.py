"""Compressed answers (Flask-Compress, settings in config.py): pages, styles, scripts, JSON and
SVG, Brotli or gzip as the browser takes them; `make run` and behind nginx alike.

Left as they are:
- an answer that already has a Content-Encoding (the public pages' cache compresses its own);
- streamed answers (the CSV, XLSX and PDF exports: COMPRESS_STREAMS is off), images, the wasm;
- a page that carries a CSRF token (every form, and every page of someone signed in: the sign-out
  button). Compressing a secret beside text an attacker can put in the same page (a search term
  in the address) lets the compressed length give the secret away letter by letter over HTTPS
  (BREACH); those pages are few and small, the public list and event pages are the traffic.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g

from .extensions import compress


def register(app: Flask) -> None:
    """Bind Flask-Compress without its own hook, and compress through `compressed` instead."""
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    app.after_request(compressed)


def compressed(response: Response) -> Response:
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        return response
    return compress.after_request(response)
