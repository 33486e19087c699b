"""Jinja filters and globals: local time, masked phones, the language switch."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, current_app, request
from flask_babel import format_datetime, get_locale

from . import labels, links
from .timeutil import to_local


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """A stored UTC time shown in Shanghai. `fmt` is a Babel pattern name or a pattern."""
    if value is None:
        return ""
    local = to_local(value)
    patterns = {
        # One style on every page, for citizens and staff alike: 2026年12月8日; files keep ISO.
        "date": "yyyy年M月d日 EEE" if _zh() else "EEE d MMM yyyy",
        "time": "HH:mm",
        "medium": "M月d日 EEE HH:mm" if _zh() else "EEE d MMM HH:mm",
        "full": "yyyy年M月d日 EEE HH:mm" if _zh() else "EEE d MMM yyyy, HH:mm",
        "input": "yyyy-MM-dd'T'HH:mm",
    }
    return format_datetime(local, patterns.get(fmt, fmt), rebase=False)


def session_map_url(session) -> str | None:
    """The map link of where a session meets (links.map_url): its pin, or a search for its
    address (the session's own, else the event's)."""
    return links.map_url(session.where, session.location, name=session.event.venue)


def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


# A+: the larger text a citizen chose, remembered like the language (a cookie, no script).
TEXT_SIZES = ("large", "normal")


def text_large() -> bool:
    chosen = request.args.get("text")
    if chosen in TEXT_SIZES:
        return chosen == "large"
    return request.cookies.get("text_size") == "large"


def text_size_url(size: str) -> str:
    args = request.args.to_dict()
    args["text"] = size
    return request.path + "?" + urlencode(args)


def lang_url(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    return request.path + "?" + urlencode(args)


def register(app: Flask) -> None:
    app.add_template_filter(localtime)

    @app.context_processor
    def inject():
        return {
            "current_locale": "zh_CN" if _zh() else "en",
            "languages": current_app.config["LANGUAGES"],
            "lang_url": lang_url,
            "is_zh": _zh(),
            "labels": labels,
            "session_map_url": session_map_url,
            "map_url": links.map_url,
            "text_large": text_large(),
            "text_size_url": text_size_url,
        }

    @app.after_request
    def remember_language(response):
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"] and request.cookies.get("lang") != chosen:
            response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="Lax",
                                httponly=True)
        size = request.args.get("text")
        if size in TEXT_SIZES and request.cookies.get("text_size") != size:
            response.set_cookie("text_size", size, max_age=365 * 86400, samesite="Lax",
                                httponly=True)
        return response
