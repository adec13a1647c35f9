"""The bare baseline of the API benchmark: Flask + SQLAlchemy 2 + marshmallow, nothing else.

    GET  /rows/<key>  one row by primary key, dumped with a marshmallow schema (404 if missing)
    POST /rows        a small JSON body validated with marshmallow, one row inserted -> 201

The engine comes from `scheduler.db.make_engine` (SQLite: WAL, busy_timeout, foreign keys;
PostgreSQL: psycopg 3, pool_pre_ping) and sessions from `make_session_factory`, so the database
layer is the service's. No auth, no idempotency, no audit: it is what "one read" and "one
write" cost in this stack. Served by run.py as
`gunicorn bench.api_bench.bare_app:app` with BENCH_BARE_DATABASE_URL set.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Flask, abort, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import Engine, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from scheduler.db import UtcDateTime, make_engine, make_session_factory

ENV_URL = "BENCH_BARE_DATABASE_URL"


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "bench_rows"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RowIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    value = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=1000))


class RowOut(Schema):
    id = fields.String()
    name = fields.String()
    value = fields.Integer()
    created_at = fields.AwareDateTime()


ROW_IN = RowIn()
ROW_OUT = RowOut()


def new_row_id() -> str:
    return f"row_{secrets.token_hex(10)}"


def init_db(url: str, count: int) -> list[str]:
    """Create the table and `count` rows; returns their ids (run once, before gunicorn)."""
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        ids = [new_row_id() for _ in range(count)]
        now = datetime.now(UTC)
        with Session(engine) as session, session.begin():
            session.add_all(Row(id=i, name=f"seed {n}", value=n % 1000, created_at=now)
                            for n, i in enumerate(ids))
        return ids
    finally:
        engine.dispose()


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    engine: Engine = make_engine(url)
    sessions = make_session_factory(engine)

    @app.get("/rows/<key>")
    def get_row(key: str) -> Any:
        with sessions() as session:
            row = session.get(Row, key)
            if row is None:
                abort(404)
            return jsonify(ROW_OUT.dump(row))

    @app.post("/rows")
    def post_row() -> Any:
        try:
            data = ROW_IN.load(request.get_json())
        except ValidationError as exc:
            return jsonify(errors=exc.messages), 422
        row = Row(id=new_row_id(), created_at=datetime.now(UTC), **data)
        with sessions() as session:
            session.add(row)
            session.commit()
            return jsonify(ROW_OUT.dump(row)), 201

    return app


app = create_app(os.environ[ENV_URL]) if ENV_URL in os.environ else None
