"""qmevents: registration and check-in for Quality Month (质量月) public activities."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from .config import Config
from .extensions import babel, cache, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("QMEVENTS_INSTANCE", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _load_config(app, config or {})
    # First in, last out: the request id and timing start before any other hook (CSRF, limits)
    # can answer, and the security headers and the log line see the final response.
    from . import health, links, requestlog, security, staticfiles

    requestlog.register(app)
    security.register(app)
    # Before CSRF and the limits: a request to a host we build no links from is refused first.
    app.before_request(links.refuse_untrusted_host)
    _init_extensions(app)
    _register_blueprints(app)
    health.register(app)
    staticfiles.register(app)

    from . import cli, errors, filters, guards

    cli.register(app)
    # After CSRF and the limits, as before any view: what no row can hold is refused once.
    app.before_request(guards.refuse_unstorable)
    errors.register(app)
    filters.register(app)
    return app


def _load_config(app: Flask, overrides: dict[str, Any]) -> None:
    app.config.from_object(Config)
    if os.environ.get("QMEVENTS_ENV", "").strip().lower() == "production":
        app.config.update(ENVIRONMENT="production", PREFERRED_URL_SCHEME="https")
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = os.environ["REDIS_URL"]
        if os.environ["REDIS_URL"].startswith(("redis://", "rediss://", "unix://")):
            app.config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=os.environ["REDIS_URL"],
                              CACHE_OPTIONS={"socket_connect_timeout": 0.5,
                                             "socket_timeout": 0.5})
    app.config.from_prefixed_env()
    app.config.update(overrides)
    from .security import check_production, secure_cookies

    check_production(app.config)
    secure_cookies(app.config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or (
        "sqlite:///" + str(Path(app.instance_path) / "qmevents.sqlite3")
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_uri(uri)
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30})
    else:  # a connection left from before a PostgreSQL restart is replaced, not a 500
        options.setdefault("pool_pre_ping", True)
    if app.config["ENVIRONMENT"] == "production":  # no phone numbers in error logs
        options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")


def _normalise_db_uri(uri: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def _instance_secret(path: Path) -> str:
    """A random secret written once into instance/ and reused, so no secret lives in the repo."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_hex(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite survives concurrent writers with WAL and a busy timeout; foreign keys are on."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the tables)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    # After requestlog and security, whose after_request hooks then see the compressed answer.
    from . import compression

    compression.register(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)


def _select_locale() -> str:
    """Chinese first: zh_CN unless the visitor chose English (?lang=en, remembered in a cookie)."""
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI commands and background work speak the default
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .door import bp as door_bp
    from .organiser import bp as organiser_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(organiser_bp, url_prefix="/organiser")
    app.register_blueprint(door_bp, url_prefix="/door")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)
