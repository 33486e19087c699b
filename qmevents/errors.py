"""Error pages for people, JSON for the API: never a stack trace, always a message in the
visitor's language."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .links import UntrustedHost
from .requestlog import logged_path


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This address does not accept that method."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you entered was lost; please try again."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str | None = None, code: str | None = None):
    message = message or _messages().get(status, _messages()[400])
    if wants_json():
        names = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 429: "rate_limited",
                 500: "server_error", 503: "unavailable"}
        return jsonify(error=code or names.get(status, "error"), message=message), status
    return render_template("errors/error.html", status=status, message=message), status


def discard_session() -> None:
    """End the request's database session, even when the database has gone away: a rollback on a
    dead connection raises, and that must not turn a clean answer into gunicorn's bare 500."""
    try:
        db.session.remove()
    except SQLAlchemyError:
        db.session.registry.clear()


def register(app: Flask) -> None:
    @app.teardown_appcontext
    def end_session(exc: BaseException | None) -> None:
        discard_session()

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(err: OperationalError | InterfaceError):
        """The database is restarting or unreachable: a 503 the client may retry, not a 500."""
        discard_session()
        app.logger.warning("database unavailable on %s %s: %s", request.method, logged_path(),
                           err.orig.__class__.__name__ if err.orig else err.__class__.__name__)
        response, status = render_error(
            503, _("The database is not answering. Please try again in a moment."), "unavailable")
        response = app.make_response((response, status))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_error(400, _("This form has expired. Please go back, reload and try again."),
                            "csrf")

    @app.errorhandler(UntrustedHost)
    def untrusted_host(err: UntrustedHost):
        return render_error(400, err.description, "untrusted_host")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        return render_error(err.code)

    @app.errorhandler(InternalServerError)
    def server_error(err):
        discard_session()
        app.logger.exception("unhandled error on %s %s", request.method, logged_path())
        return render_error(500)
