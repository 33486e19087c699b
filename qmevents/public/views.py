from flask import Blueprint, render_template

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    return render_template("errors/error.html", status=200, message="qmevents")


@bp.route("/privacy")
def privacy():
    return render_template("errors/error.html", status=200, message="privacy")
