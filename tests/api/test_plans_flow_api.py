"""A plan's life through the API: create, consent, sessions, reports, window, decisions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import T0


@pytest.fixture
def patient(client: Any, booking: dict[str, str], clinic: Any) -> dict[str, Any]:
    response = client.post("/api/v1/patients", headers=booking,
                           json={"clinic_id": clinic.id, "external_id": "MRN-1"})
    assert response.status_code == 201, response.json
    return response.json


def iso(delta_days: float = 0, hours: float = 0) -> str:
    return (T0 + timedelta(days=delta_days, hours=hours)).isoformat()


def create_plan(client: Any, headers: dict[str, str], patient_id: str, **extra: Any) -> Any:
    body = {"patient_id": patient_id, "condition": "lumbar myofascial pain",
            "onset_date": "2026-10-01", "baseline": {"pain": 8, "function": 3},
            "neuropathic_symptoms": False, **extra}
    return client.post("/api/v1/plans", headers=headers, json=body)


def test_a_severe_plan_starts_twice_weekly_and_waits_for_consent(client, booking, patient):
    response = create_plan(client, booking, patient["id"])
    assert response.status_code == 201, response.json
    plan = response.json
    assert plan["status"] == "assessment_pending"
    assert plan["frequency"] == {"frequency": 2, "period": 1, "period_unit": "wk"}
    assert plan["next_visit"]["kind"] == "assessment"
    assert response.headers["ETag"] == f'"1-{T0.date()}"'


def test_reports_move_the_plan_and_explain_why(client, booking, patient, clock):
    plan = create_plan(client, booking, patient["id"],
                       consent={"recorded_at": iso(hours=-1), "recorded_by": "physio:7"}).json
    assert plan["status"] == "active" and plan["next_visit"]["kind"] == "needling"
    pid = plan["id"]
    for i, pain in enumerate([6, 5, 4]):
        clock.advance(days=4)
        visit = client.post(f"/api/v1/plans/{pid}/visits", headers=booking,
                            json={"external_id": f"V{i}", "kind": "needling",
                                  "starts_at": clock().isoformat(), "status": "attended"})
        assert visit.status_code == 201, visit.json
        clock.advance(hours=60)
        report = client.post(f"/api/v1/plans/{pid}/reports", headers=booking,
                             json={"recorded_at": clock().isoformat(), "pain": pain,
                                   "function": 5})
        assert report.status_code == 201, report.json
    result = report.json
    assert result["plan"]["phase"] == "middle"
    assert result["decision"]["explanations"][0]["rule"] == "initial.advance"
    assert "moving to the middle phase" in result["decision"]["explanations"][0]["text"]
    window = client.get(f"/api/v1/plans/{pid}/next-visit", headers=booking).json
    assert window["kind"] == "needling" and window["earliest"] <= window["target"]
    decisions = client.get(f"/api/v1/plans/{pid}/decisions", headers=booking).json
    assert decisions["items"][0]["phase_after"] == "middle"
    schedule = client.get(f"/api/v1/plans/{pid}/schedule?count=3", headers=booking).json
    assert len(schedule["items"]) == 3
    followups = client.get(f"/api/v1/followups?clinic_id={plan['clinic_id']}",
                           headers=booking).json
    assert followups["items"][0]["plan_id"] == pid


def test_a_late_report_is_folded_in_its_place(client, booking, patient, clock):
    plan = create_plan(client, booking, patient["id"],
                       consent={"recorded_at": iso(hours=-1), "recorded_by": "physio:7"}).json
    pid = plan["id"]
    clock.advance(days=10)
    late = client.post(f"/api/v1/plans/{pid}/reports", headers=booking,
                       json={"recorded_at": iso(2), "pain": 7})
    assert late.status_code == 201, late.json
    earlier = client.post(f"/api/v1/plans/{pid}/reports", headers=booking,
                          json={"recorded_at": iso(1), "pain": 7})
    assert earlier.status_code == 201, earlier.json
    trail = client.get(f"/api/v1/plans/{pid}/decisions", headers=booking).json["items"]
    assert [d["seq"] for d in trail] == [3, 2, 1, 0]
    assert [d["at"][:10] for d in trail[:2]] == [iso(2)[:10], iso(1)[:10]]


def test_actions_need_if_match_and_a_reason(client, booking, physio, patient):
    created = create_plan(client, booking, patient["id"])
    pid, tag = created.json["id"], created.headers["ETag"]
    url = f"/api/v1/plans/{pid}/actions"
    assert client.post(url, headers=physio, json={"action": "hold", "reason": "x"}
                       ).status_code == 428
    missing = client.post(url, headers={**physio, "If-Match": tag}, json={"action": "hold"})
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    held = client.post(url, headers={**physio, "If-Match": tag, "X-Actor": "physio:9"},
                       json={"action": "hold", "reason": "review imaging"})
    assert held.status_code == 200, held.json
    assert held.json["status"] == "on_hold" and held.json["next_visit"]["kind"] == "review"
    stale = client.post(url, headers={**physio, "If-Match": tag},
                        json={"action": "resume", "reason": "ok"})
    assert stale.status_code == 412
