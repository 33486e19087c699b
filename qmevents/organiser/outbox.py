"""The city admins' outbox: every message the system stored for citizens, whether it went out,
and why not. With the default "outbox" backend nothing is sent anywhere, so this page is where a
demo's one-time codes and ticket links are read. Recipients are always masked.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import labels
from ..paging import page_number
from ..services import access
from ..services.messaging import outbox
from .blueprint import bp

PER_PAGE = 30


def _admins_only() -> None:
    """Messages name citizens of every organisation: only the city's admins read them."""
    if not access.may_read_outbox(current_user):
        abort(403)


@bp.route("/outbox", endpoint="outbox")
@login_required
def outbox_page():
    _admins_only()
    page = page_number()
    rows = outbox.recent(limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
    return render_template(
        "organiser/outbox.html", entries=rows[:PER_PAGE], page=page,
        has_next=len(rows) > PER_PAGE, kinds=labels.NOTIFICATION_KIND, channels=labels.CHANNEL,
        statuses=labels.NOTIFICATION_STATUS, tones=labels.NOTIFICATION_TONE,
    )


@bp.route("/outbox/retry", methods=["POST"])
@login_required
def retry_outbox():
    """Deliver now what is waiting for its next try, instead of waiting for `flask notify retry`."""
    _admins_only()
    counts = outbox.deliver_due()
    if counts.sent or counts.retrying or counts.failed:
        flash(_("Sent: %(sent)d. Still failing, will be retried: %(retrying)d. "
                "Given up: %(failed)d.", sent=counts.sent, retrying=counts.retrying,
                failed=counts.failed), "error" if counts.retrying or counts.failed else "success")
    else:
        flash(_("No message was due for another try."), "info")
    return redirect(url_for(".outbox"), 303)
