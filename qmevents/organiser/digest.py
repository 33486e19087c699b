"""The campaign summary (活动集锦): a draft press digest written from the figures, for an editor to
copy and polish. Admins get the whole city; an organiser its own organisation's events (whatever
the query says); door staff none. The text follows the page's language, and downloads as UTF-8
plain text with `?format=txt`."""
from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import get_locale
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..models import EventKind
from ..services import access, listings
from ..services.errors import NotFound, ValidationFailed
from ..services.reporting import digest
from .blueprint import bp
from .filters import ARG_OF, scoped_filter

SUMMARY_ARGS = ("from", "to", "kind", "district")


@bp.route("/campaign/summary", endpoint="campaign_summary")
@login_required
def campaign_summary():
    is_admin = access.sees_whole_city(current_user)
    typed = MultiDict({k: request.args.get(k, "").strip() for k in (*SUMMARY_ARGS,
                                                                    "organisation")})
    typed["organisation"] = ""  # the summary is the city's, or the organiser's own
    flt, errors = scoped_filter(typed)
    summary = None
    if not errors:
        try:
            summary = digest.campaign_summary(flt, str(get_locale() or "zh_CN"))
        except ValidationFailed as exc:
            errors = {ARG_OF.get(k, k): v for k, v in exc.errors.items()}
        except NotFound:
            abort(404)
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "txt"):
        abort(404)
    if summary is not None and fmt == "txt":
        return _text_download(summary)
    return render_template(
        "organiser/campaign_summary.html", summary=summary, errors=errors, typed=typed,
        is_admin=is_admin, oversees=access.oversees_district(current_user) is not None,
        kinds=list(EventKind), districts=listings.districts(),
        filter_args={k: typed[k] for k in SUMMARY_ARGS if typed[k]},
    ), 400 if errors else 200


def _text_download(summary: digest.Summary) -> Response:
    name = "campaign-summary-zh.txt" if summary.locale == "zh" else "campaign-summary-en.txt"
    return Response(
        summary.as_text(), mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Content-Type": "text/plain; charset=utf-8"},
    )
