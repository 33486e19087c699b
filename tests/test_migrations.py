"""`flask --app wsgi db upgrade` on an empty database gives exactly the schema the models describe.

The `app` fixture builds its tables with create_all, so these tests make their own app on a fresh
database: a new SQLite file, or with `--db=postgresql` a new database on the test server.
"""
from __future__ import annotations

import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from qmevents import ROOT, create_app
from qmevents.extensions import db
from qmevents.models import District


@pytest.fixture
def keep_logging():
    """Alembic's env.py calls logging.fileConfig, which resets the root logger; give the later
    tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def migrated_app(tmp_path, monkeypatch, database_url, keep_logging):
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_upgrade_brings_an_empty_database_to_head(migrated_app):
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    with migrated_app.app_context(), db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_upgrade_seeds_the_sixteen_districts(migrated_app):
    with migrated_app.app_context():
        assert db.session.scalar(select(func.count(District.id))) == 16


def test_migrated_schema_matches_the_models(migrated_app):
    with migrated_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
