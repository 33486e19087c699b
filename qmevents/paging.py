"""?page=N for every paginated page: read forgivingly, linked with the same filters."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for

MAX_PAGE = 10_000  # beyond is a typing mistake, and a huge OFFSET only burdens the database


def page_number(raw: str | None = None) -> int:
    """The page asked for in a link people may have edited: anything odd means the first."""
    raw = request.args.get("page") if raw is None else raw
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return page if 1 <= page <= MAX_PAGE else 1


def page_count(total: int, per_page: int) -> int:
    return max((total + per_page - 1) // per_page, 1)


@dataclass
class Pager:
    page: int
    pages: int

    def url(self, page: int) -> str:
        """This page's address with the same filters on another page (the language is
        remembered by its cookie)."""
        args = {k: v for k, v in request.args.items() if k not in ("page", "lang")}
        if page > 1:
            args["page"] = page
        return url_for(request.endpoint, **(request.view_args or {}), **args)
