"""Helpers for the plan API tests: build patients, plans, reports and visits through the API.
What the database holds (to prove a rejected request changed nothing) is read by
tests.builders.footprint."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.conftest import T0

Headers = dict[str, str]
API = "/api/v1"


def iso(days: float = 0, hours: float = 0, base: datetime = T0) -> str:
    """An RFC 3339 timestamp `days`/`hours` after the suite's T0 (Mon 2026-11-02 17:30Z)."""
    return (base + timedelta(days=days, hours=hours)).isoformat()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def make_patient(client: Any, headers: Headers, clinic_id: str, external_id: str = "MRN-1"
                 ) -> dict[str, Any]:
    return ok(client.post(f"{API}/patients", headers=headers,
                          json={"clinic_id": clinic_id, "external_id": external_id}), 201)


def plan_body(patient_id: str, **extra: Any) -> dict[str, Any]:
    return {"patient_id": patient_id, "condition": "lumbar myofascial pain",
            "onset_date": "2026-10-01", "baseline": {"pain": 8, "function": 3},
            "neuropathic_symptoms": False, **extra}


def consent(days: float = 0, hours: float = -1) -> dict[str, str]:
    return {"recorded_at": iso(days, hours), "recorded_by": "physio:7"}


def make_plan(client: Any, headers: Headers, clinic_id: str, external_id: str = "MRN-1",
              **extra: Any) -> dict[str, Any]:
    """A patient and an open plan for them (with consent unless `consent=None` is passed)."""
    extra.setdefault("consent", consent())
    if extra["consent"] is None:
        del extra["consent"]
    patient = make_patient(client, headers, clinic_id, external_id)
    return ok(client.post(f"{API}/plans", headers=headers, json=plan_body(patient["id"], **extra)),
              201)


def report_body(recorded_at: str | None = None, pain: int = 6, **extra: Any) -> dict[str, Any]:
    return {"recorded_at": recorded_at or iso(), "pain": pain, **extra}


def visit_body(external_id: str = "V1", status: str = "booked", starts_at: str | None = None,
               kind: str = "needling") -> dict[str, Any]:
    return {"external_id": external_id, "kind": kind, "starts_at": starts_at or iso(1),
            "status": status}


def etag(client: Any, headers: Headers, plan_id: str) -> str:
    return client.get(f"{API}/plans/{plan_id}", headers=headers).headers["ETag"]


def act(client: Any, headers: Headers, plan_id: str, body: dict[str, Any],
        if_match: str | None = None) -> Any:
    tag = if_match if if_match is not None else etag(client, headers, plan_id)
    return client.post(f"{API}/plans/{plan_id}/actions", headers={**headers, "If-Match": tag},
                       json=body)

