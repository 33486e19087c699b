"""Extension objects, created here and bound to an app in create_app()."""
from flask import Flask
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so that Alembic can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
cache = Cache()  # the public pages' render cache (public/pagecache.py)
compress = Compress()


class AppLimiter(Limiter):
    """Flask-Limiter's extension object is shared by every app the factory builds (the tests
    build hundreds): each app starts with its own storage presumed reachable, not with the
    "Redis is down, counting in memory" state a previous app may have left behind."""

    def init_app(self, app: Flask) -> None:
        self._storage_dead = False
        super().init_app(app)


limiter = AppLimiter(key_func=get_remote_address, default_limits=[])
