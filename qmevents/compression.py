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

from flask import Flask, Response, current_app, g, request

from .extensions import compress


def register(app: Flask) -> None:
    """Bind Flask-Compress without its own hook, and compress through `compressed` instead."""
    app.config["COMPRESS_REGISTER"] = False
    compress.init_app(app)
    app.after_request(compressed)


def compressed(response: Response) -> Response:
    """Flask-Compress's after_request, for what may be compressed (the docstring above)."""
    if current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g:
        return response
    if not takes_compression(request.headers.get("Accept-Encoding", "")):
        if response.mimetype in current_app.config["COMPRESS_MIMETYPES"]:
            response.vary.add("Accept-Encoding")  # another browser may get it compressed
        return response
    return compress.after_request(response)


def takes_compression(header: str) -> bool:
    """Whether the browser takes one of COMPRESS_ALGORITHM, named or as `*`, with a q above 0.
    (Flask-Compress alone would pick gzip from "gzip;q=0", which refuses it.)"""
    algorithms = current_app.config["COMPRESS_ALGORITHM"]
    if isinstance(algorithms, str):
        algorithms = algorithms.split(",")
    wanted = {name.strip().lower() for name in algorithms} | {"*"}
    for part in header.split(","):
        coding, _sep, params = part.partition(";")
        if coding.strip().lower() in wanted and _quality(params) > 0:
            return True
    return False


def _quality(params: str) -> float:
    """The q of `;q=0.5` (1 when absent; 0, refused, when unreadable)."""
    for param in params.split(";"):
        name, _sep, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0
