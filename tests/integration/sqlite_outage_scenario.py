"""A SQLite outage played in a process of its own (test_sqlite_outage.py runs it): `readonly`
(the file made read-only, run as a user that permissions bind, so not root) or `full` (no
room to write: RLIMIT_FSIZE, as a full disk looks to SQLite). One app serves before, during
and after; the answers are printed as one JSON object."""

from __future__ import annotations

import json
import resource
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api import create_app
from config import Settings
from scheduler import migrate as schema
from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.services import api_keys, clinics
from scheduler.services.common import Actor

NOW = datetime(2026, 11, 2, 17, 30, tzinfo=UTC)
SETUP = Actor(key_id=None, name="scenario")


def answer(response: Any) -> dict[str, Any]:
    body = response.get_json(force=True, silent=True) or {}
    return {"status": response.status_code, "type": body.get("type"),
            "retry_after": response.headers.get("Retry-After"), "mimetype": response.mimetype}


def main(kind: str, directory: Path) -> dict[str, Any]:
    path = directory / "cadence.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    schema.upgrade(engine, "head")
    sessions = make_session_factory(engine)
    clinic = clinics.create_clinic(UnitOfWork(sessions), name="Kits", timezone="America/Vancouver",
                                   open_weekdays=[0, 1, 2, 3, 4], actor=SETUP, now=NOW)
    token = api_keys.create_api_key(UnitOfWork(sessions), name="b", role="booking_system",
                                    clinic_ids=[clinic.id], actor=SETUP, now=NOW).secret
    engine.dispose()
    app = create_app(Settings(database_url=url, testing=True, log_level="CRITICAL"),
                     clock=lambda: NOW)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    n = {"i": 0}

    def create() -> dict[str, Any]:
        n["i"] += 1
        return answer(client.post("/api/v1/patients", headers={**auth, "Idempotency-Key":
                                                               f"k-{n['i']}"},
                                  json={"clinic_id": clinic.id, "external_id": f"MRN-{n['i']}"}))

    def read() -> dict[str, Any]:
        return answer(client.get(f"/api/v1/patients?clinic_id={clinic.id}", headers=auth))

    out: dict[str, Any] = {"before": create()}
    if kind == "readonly":
        app.extensions["cadence"].engine.dispose()  # connections open from here on see it
        path.chmod(0o444)
        out["during"] = [create(), create(), read(),
                         answer(client.get("/cds-services", headers=auth))]
        for file in directory.glob("cadence.db*"):  # SQLite made its -shm read-only too
            file.chmod(0o644)
    else:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit: EFBIG
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, hard))  # no file may grow
        out["during"] = [create(), create()]
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    out["after"] = [create(), read()]  # the same app, no restart
    app.extensions["cadence"].engine.dispose()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]))))
