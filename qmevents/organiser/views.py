from flask import Blueprint
from flask_login import login_required

bp = Blueprint("organiser", __name__)


@bp.route("/")
@login_required
def events():
    return "events"
