"""Migration 0006_keys: key expiry columns, and stored idempotent responses that carried a
secret (written before it) rewritten to the 409 a replay now answers."""

from __future__ import annotations

import json

from sqlalchemy import insert, select, text

from scheduler import migrate as schema
from scheduler.db import make_engine
from scheduler.models import ApiKey, Clinic, IdempotencyRecord, api_key_clinics
from tests.conftest import T0


def test_stored_secrets_are_rewritten_and_other_responses_kept(tmp_path) -> None:
    # A scratch SQLite file: the shared test database stays at head (the SQL is portable).
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        schema.upgrade(engine, "0004_scheduler")
        secret_body = json.dumps({"id": "key_1", "key": "ims_abc_SECRET"})
        with engine.begin() as conn:
            for i, (location, body) in enumerate([
                ("/api/v1/api-keys/key_1", secret_body),
                ("/api/v1/webhooks/whk_1", json.dumps({"id": "whk_1", "secret": "whsec_X"})),
                ("/api/v1/patients/pat_1", json.dumps({"id": "pat_1"})),
            ]):
                conn.execute(text(
                    "INSERT INTO idempotency_keys (client, key, fingerprint, status, "
                    "response_status, response_body, response_headers, created_at) VALUES "
                    "(:c, :k, 'f', 'done', 201, :b, :h, :t)"),
                    {"c": "key_admin", "k": f"k{i}", "b": body, "t": T0.replace(tzinfo=None),
                     "h": json.dumps({"Location": location})})
        schema.upgrade(engine, "head")
        with engine.connect() as conn:
            rows = {r.key: r for r in conn.execute(select(IdempotencyRecord.__table__))}
        assert "SECRET" not in rows["k0"].response_body and rows["k0"].response_status == 409
        assert json.loads(rows["k0"].response_body)["created_id"] == "key_1"
        assert rows["k0"].response_headers["Location"] == "/api/v1/api-keys/key_1"
        assert "whsec_X" not in rows["k1"].response_body
        assert json.loads(rows["k1"].response_body)["created_id"] == "whk_1"
        assert rows["k2"].response_status == 201 and rows["k2"].response_body == '{"id": "pat_1"}'
    finally:
        engine.dispose()


def test_downgrading_0006_keeps_keys_and_their_clinics(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        schema.upgrade(engine, "head")
        with engine.begin() as conn:
            conn.execute(insert(Clinic.__table__).values(
                id="cln_1", name="K", timezone="UTC", open_weekdays=[0], holiday_region=None,
                closures=[], ruleset="ims-default@1", version=1, created_at=T0, updated_at=T0))
            conn.execute(insert(ApiKey.__table__).values(
                id="key_1", name="k", role="booking_system", prefix="p", key_hash="h",
                created_at=T0, expires_at=T0, last_used_at=T0))
            conn.execute(insert(api_key_clinics).values(api_key_id="key_1", clinic_id="cln_1"))
        schema.downgrade(engine, "0005_caps")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM api_key_clinics")).scalar() == 1
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(api_keys)"))]
        assert "expires_at" not in columns and "last_used_at" not in columns
    finally:
        engine.dispose()
