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


@pytest.fixture
def app_at_0006(tmp_path, monkeypatch, database_url, keep_logging):
    """A database migrated to 0006, before phone verification and server-side sign-ins."""
    monkeypatch.setenv("QMEVENTS_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "0006"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_0007_writes_old_non_ascii_phones_in_ascii_and_takes_registration_codes(app_at_0006):
    """Numbers stored in Arabic-Indic or full-width digits before they were normalised become
    ASCII (so "my tickets" reaches them), unless that would make a second active registration;
    and the upgraded CHECK takes codes for registering."""
    from sqlalchemy import text

    with app_at_0006.app_context():
        for statement in (
            "INSERT INTO organisation (id, name, kind, district_id) VALUES (1, '杨浦区市场监督管理局', "
            "'bureau', 1)",
            "INSERT INTO event (id, organisation_id, district_id, title, kind, host, venue, address, "
            "description, status, max_party_size, registration_mode, created_at, updated_at, "
            "allow_reentry) VALUES (1, 1, 1, 't', 'open_day', '', 'v', '', '', 'published', 4, "
            "'fcfs', '2026-01-01', '2026-01-01', false)",
            "INSERT INTO event_session (id, event_id, label, starts_at, ends_at, capacity, "
            "places_taken) VALUES (1, 1, '', '2026-09-01 01:00', '2026-09-01 03:00', 10, 3)",
        ):
            db.session.execute(text(statement))
        registrations = [(1, "١٣٨١٢٣٤٥٦٧٨", "confirmed"), (2, "13900000000", "confirmed"),
                         (3, "１３９００００００００", "confirmed"), (4, "13812345678", "cancelled")]
        for rid, phone, status in registrations:
            db.session.execute(text(
                "INSERT INTO registration (id, code, event_id, session_id, name, phone, party_size, "
                "status, source, created_at, updated_at, admitted_people) VALUES (:id, :code, 1, 1, "
                "'王', :phone, 1, :status, 'web', '2026-01-01', '2026-01-01', 0)"),
                {"id": rid, "code": f"CODE{rid:016d}", "phone": phone, "status": status})
        db.session.commit()
    result = app_at_0006.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app_at_0006.app_context():
        phones = dict(db.session.execute(text("SELECT id, phone FROM registration")).all())
        assert phones == {1: "13812345678", 2: "13900000000", 3: "１３９００００００００",
                          4: "13812345678"}
        db.session.execute(text(
            "INSERT INTO one_time_code (phone, code_hash, purpose, created_at, expires_at, "
            "attempts) VALUES ('13812345678', 'x', 'register', '2026-01-01', '2026-01-01', 0)"))
        db.session.commit()
        with pytest.raises(Exception):  # noqa: B017 (IntegrityError on both, by another name)
            db.session.execute(text(
                "INSERT INTO one_time_code (phone, code_hash, purpose, created_at, expires_at, "
                "attempts) VALUES ('13812345678', 'x', 'anything', '2026-01-01', '2026-01-01', 0)"))
            db.session.commit()
        db.session.rollback()
