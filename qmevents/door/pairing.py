"""Enrolling a phone as a door device (services/devices.py): the organiser's screen shows a QR of
/door/pair/<secret>; the phone opens it, confirms, and is signed in as the device, straight onto
the event's scanner. Opening the address (GET) only asks: a chat app's link preview must not pair
itself."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from ..auth.signin import start_session
from ..extensions import db
from ..services import devices, signins
from .blueprint import bp


@bp.route("/pair/<secret>", methods=["GET", "POST"])
def pair(secret: str):
    device = devices.waiting(secret)
    if device is None:
        return render_template("door/pair.html", device=None), 410
    if request.method == "GET":
        return render_template("door/pair.html", device=device, secret=secret)
    device = devices.pair(secret)
    if device is None:
        return render_template("door/pair.html", device=None), 410
    token = signins.start_for_user(device.user, commit=False)
    db.session.commit()
    start_session(device.user, token)
    return redirect(url_for(".scan", event_id=device.event_id), 303)
