"""The baseline the benchmarks divide by: the smallest Flask + Flask-SQLAlchemy app on the same
stack as qmevents (same gunicorn settings, same database kind and SQLite pragmas) that does one
insert per request. `POST /bare` reads a JSON body and inserts it as one row; `GET /ping` touches
no database, to show how fast the client and gunicorn alone can go. `GET /bare/<id>` reads one
row by its key: the baseline of a page that reads (benchmarks/mixed.py). `GET /bare-list` reads
every row's columns as one JSON list: the baseline of the door's ticket list (checkin.py).

`POST /bare-claim` is a diagnostic: a registration reduced to its SQL (read the slot, take places
with a conditional UPDATE, insert the row, one transaction), to show how much of the gap to
`/bare` is the work a registration must do and how much is the rest of the app.

    gunicorn 'benchmarks.bare_app:create_app()'   # with DATABASE_URL set
"""
from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, String, event, select, update
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()


class Row(db.Model):
    __tablename__ = "bare_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(11))
    party_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Slot(db.Model):
    """One session's capacity, for /bare-claim; row 1 is created by the benchmark."""

    __tablename__ = "bare_slot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    places_taken: Mapped[int] = mapped_column(Integer, default=0)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """The same as qmevents' own (qmevents/__init__.py), so both run SQLite the same way."""
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    uri = database_url or os.environ["DATABASE_URL"]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)

    @app.post("/bare")
    def bare():
        data = request.get_json(force=True)
        row = Row(name=str(data["name"]), phone=str(data["phone"]),
                  party_size=int(data["party_size"]), created_at=datetime.now(UTC))
        db.session.add(row)
        db.session.flush()
        row_id = row.id  # read before the commit expires it: one INSERT, no SELECT after
        db.session.commit()
        return jsonify(id=row_id), 201

    @app.post("/bare-claim")
    def bare_claim():
        data = request.get_json(force=True)
        people = int(data["party_size"])
        db.session.execute(select(Slot.capacity, Slot.places_taken).where(Slot.id == 1)).one()
        claimed = db.session.execute(
            update(Slot).where(Slot.id == 1, Slot.places_taken + people <= Slot.capacity)
            .values(places_taken=Slot.places_taken + people)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            return jsonify(error="full"), 409
        row = Row(name=str(data["name"]), phone=str(data["phone"]), party_size=people,
                  created_at=datetime.now(UTC))
        db.session.add(row)
        db.session.flush()
        row_id = row.id
        db.session.commit()
        return jsonify(id=row_id), 201

    @app.get("/bare/<int:row_id>")
    def bare_read(row_id: int):
        """One row by primary key, as JSON: the baseline of a page that reads (mixed.py)."""
        row = db.session.get(Row, row_id)
        return jsonify(id=row.id if row else None, name=row.name if row else None)

    @app.get("/bare-list")
    def bare_list():
        """Every row's columns as one JSON list: the baseline of the door's ticket list."""
        rows = db.session.execute(select(Row.id, Row.name, Row.phone, Row.party_size)).all()
        return jsonify(rows=[{"id": i, "name": name, "phone": phone, "party_size": size}
                             for i, name, phone, size in rows])

    @app.get("/ping")
    def ping():
        return jsonify(ok=True)

    return app
