"""POST /plans/{id}/actions: each action, If-Match (428/412/`*`), per-action fields, 409, 404,
and that a rejected action changes nothing."""

from __future__ import annotations

import pytest

from tests.api.plan_support import API, act, iso, make_plan, ok
from tests.builders import footprint

OVERRIDE = {"action": "override", "frequency": {"frequency": 1, "period": 1},
            "until": "2026-12-31", "reason": "travelling"}


def url(plan_id: str) -> str:
    return f"{API}/plans/{plan_id}/actions"


def test_recording_consent_activates_a_pending_plan(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id, consent=None)
    response = act(client, physio, plan["id"], {"action": "record_consent",
                                                "recorded_at": iso(hours=-2),
                                                "recorded_by": "physio:7"})
    result = ok(response)
    assert result["status"] == "active" and result["version"] == 2
    assert result["decision"]["trigger"] == "action"
    assert result["decision"]["explanations"][0]["rule"] == "consent.recorded"
    assert response.headers["ETag"] == '"2-2026-11-02"'


def test_an_override_wins_until_cleared(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    overridden = ok(act(client, physio, plan["id"], OVERRIDE))
    assert overridden["frequency"] == {"frequency": 1, "period": 1, "period_unit": "wk"}
    assert overridden["computed_frequency"]["frequency"] == 2
    assert overridden["override"]["until"] == "2026-12-31"
    assert overridden["override"]["reason"] == "travelling"
    cleared = ok(act(client, physio, plan["id"], {"action": "clear_override", "reason": "back"}))
    assert cleared["override"] is None and cleared["frequency"]["frequency"] == 2


def test_the_override_records_the_x_actor_as_its_author(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    result = ok(act(client, {**physio, "X-Actor": "physio:1234"}, plan["id"], OVERRIDE))
    assert result["override"]["by"] == "physio:1234"


def test_set_phase_hold_resume_and_discharge(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    pid = plan["id"]
    assert ok(act(client, physio, pid, {"action": "set_phase", "phase": "middle",
                                        "reason": "doing well"}))["phase"] == "middle"
    held = ok(act(client, physio, pid, {"action": "hold", "reason": "imaging"}))
    assert held["status"] == "on_hold" and held["next_visit"]["kind"] == "review"
    assert ok(act(client, physio, pid, {"action": "resume", "reason": "ok"}))["status"] == "active"
    done = ok(act(client, physio, pid, {"action": "discharge", "reason": "goals met"}))
    assert done["status"] == "discharged" and done["next_visit"]["state"] == "none"
    assert done["version"] == 5


def test_if_match_star_accepts_any_version(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    assert ok(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, if_match="*"))


def test_if_match_names_the_version_even_from_an_earlier_day(client, booking, physio, clinic,
                                                             clock):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=1)
    assert ok(act(client, physio, plan["id"], {"action": "hold", "reason": "x"},
                  if_match='"1-2026-11-02"'))["version"] == 2


def test_an_action_without_if_match_is_428_and_changes_nothing(client, booking, physio, clinic,
                                                               problem, uow):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    problem(client.post(url(plan["id"]), headers=physio,
                        json={"action": "hold", "reason": "x"}), 428)
    assert footprint(uow, plan["id"]) == before


@pytest.mark.parametrize("tag", ['"0-2026-11-02"', '"7"', '"abc"', 'W/"1-2026-11-02x"'])
def test_a_stale_or_foreign_if_match_is_412_and_changes_nothing(client, booking, physio, clinic,
                                                                problem, uow, tag):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    problem(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, if_match=tag), 412)
    assert footprint(uow, plan["id"]) == before


def test_a_replayed_tag_after_a_change_is_412(client, booking, physio, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, if_match='"1"'))
    problem(act(client, physio, plan["id"], {"action": "resume", "reason": "y"},
                if_match='"1-2026-11-02"'), 412)


@pytest.mark.parametrize(("body", "fields"), [
    ({"action": "hold"}, {"reason"}),
    ({"action": "discharge"}, {"reason"}),
    ({"action": "resume", "reason": ""}, {"reason"}),
    ({"action": "clear_override"}, {"reason"}),
    ({"action": "set_phase", "phase": "middle"}, {"reason"}),
    ({"action": "set_phase", "phase": "late", "reason": "x"}, {"phase"}),
    ({"action": "override", "frequency": {"frequency": 1, "period": 1}, "until": "2026-12-31"},
     {"reason"}),
    ({**OVERRIDE, "until": "2026-11-01"}, {"until"}),
    ({**OVERRIDE, "frequency": {"frequency": 0, "period": 1}}, {"frequency.frequency"}),
    ({**OVERRIDE, "frequency": {"frequency": 1, "period": 1, "every": 2}}, {"frequency.every"}),
    ({"action": "hold", "reason": "x", "phase": "middle"}, {"phase"}),
    ({"action": "hold", "reason": "x", "colour": "red"}, {"colour"}),
    ({"action": "pause", "reason": "x"}, {"action"}),
    ({"reason": "x"}, {"action"}),
    ({"action": "hold", "reason": 5}, {"reason"}),
    ({"action": "record_consent", "recorded_at": "2026-11-02T09:00:00", "recorded_by": "p"},
     {"recorded_at"}),
    ({"action": "record_consent", "recorded_at": iso(hours=1), "recorded_by": "p"},
     {"recorded_at"}),
    ({"action": "record_consent", "recorded_by": "p"}, {"recorded_at"}),
], ids=["hold-without-reason", "discharge-without-reason", "empty-reason",
        "clear-override-without-reason", "set-phase-without-reason", "unknown-phase",
        "override-without-reason", "override-until-in-the-past", "override-frequency-0",
        "override-unknown-frequency-field", "hold-with-a-phase", "unknown-field",
        "unknown-action", "no-action", "reason-as-number", "naive-consent-time",
        "consent-an-hour-ahead", "consent-without-time"])
def test_an_invalid_action_is_422_per_field_and_changes_nothing(client, booking, physio, clinic,
                                                                problem, uow, body, fields):
    plan = make_plan(client, booking, clinic.id, consent=None)
    before = footprint(uow, plan["id"])
    assert set(problem(act(client, physio, plan["id"], body), 422)["errors"]) == fields
    assert footprint(uow, plan["id"]) == before


def test_malformed_json_on_an_action_is_400(client, booking, physio, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    problem(client.post(url(plan["id"]), headers={**physio, "If-Match": "*"}, data="{",
                        content_type="application/json"), 400)


def test_an_action_on_a_discharged_plan_is_409_and_changes_nothing(client, booking, physio,
                                                                   clinic, problem, uow):
    plan = make_plan(client, booking, clinic.id)
    ok(act(client, physio, plan["id"], {"action": "discharge", "reason": "done"}))
    before = footprint(uow, plan["id"])
    problem(act(client, physio, plan["id"], {"action": "resume", "reason": "oops"}), 409)
    assert footprint(uow, plan["id"]) == before


def test_an_action_on_an_unknown_plan_is_404(client, physio, problem):
    problem(client.post(url("pln_nope"), headers={**physio, "If-Match": "*"},
                        json={"action": "hold", "reason": "x"}), 404)


def test_an_action_without_a_key_is_401(client, problem):
    problem(client.post(url("pln_nope"), headers={"If-Match": "*"},
                        json={"action": "hold", "reason": "x"}), 401)


def test_a_backdated_consent_on_a_discharged_plan_is_409(client, booking, physio, clinic, clock,
                                                         problem, uow):
    plan = make_plan(client, booking, clinic.id, consent=None)
    clock.advance(days=3)
    ok(act(client, physio, plan["id"], {"action": "discharge", "reason": "moved away"}))
    before = footprint(uow, plan["id"])
    problem(act(client, physio, plan["id"], {"action": "record_consent", "recorded_at": iso(1),
                                             "recorded_by": "physio:7"}), 409)
    assert footprint(uow, plan["id"]) == before
