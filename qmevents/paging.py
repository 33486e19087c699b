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
        return this_page(dropped=("page", "lang"), page=page if page > 1 else None)


def this_page(dropped: tuple[str, ...] = ("lang",), **changes) -> str:
    """This page's address with its query arguments, some `dropped`, some changed (None drops
    one). A query argument named like a part of the path (?event_id=…) or like one of url_for's
    own (?endpoint=…, ?_external=1, ?_scheme=…) is left out: it would clash with the path or
    url_for's arguments, or make a link to another host."""
    path_args = request.view_args or {}
    args = {k: v for k, v in request.args.items()
            if k not in dropped and k not in path_args and k != "endpoint"
            and not k.startswith("_")}
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **path_args, **args)
