"""GET /healthz for the proxy and the monitoring: is this worker up and can it reach its database?

Cheap on purpose (one `SELECT 1` on a pooled connection), never rate-limited, no session cookie,
never cached. 200 {"status": "ok", "database": "ok"}; 503 {"status": "unavailable",
"database": "unavailable"} when the database cannot be reached, so a load balancer takes this
server out until it can.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter

logger = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as error:
        # One line, not a stack trace: a health check polled every few seconds would flood logs.
        logger.warning("health check: database unavailable (%s)", type(error).__name__)
        return False
    finally:
        db.session.rollback()


def healthz():
    ok = database_reachable()
    status = "ok" if ok else "unavailable"
    response = jsonify(status=status, database=status)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.add_url_rule("/healthz", endpoint="health", view_func=limiter.exempt(healthz),
                     methods=["GET"])
