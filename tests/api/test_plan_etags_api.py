"""Plan ETags `"<version>-<clinic-local date>"`: If-None-Match (304), a new tag after a change
or after midnight in the clinic's zone, and If-Match on actions (stale 412, `*` accepted)."""

from __future__ import annotations

from tests.api.plan_support import API, act, make_plan, ok, report_body


def get(client, headers, plan_id, tag=None):
    extra = {"If-None-Match": tag} if tag else {}
    return client.get(f"{API}/plans/{plan_id}", headers={**headers, **extra})


def test_a_plan_is_tagged_with_its_version_and_the_clinics_date(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    assert get(client, booking, plan["id"]).headers["ETag"] == '"1-2026-11-02"'


def test_if_none_match_with_the_current_tag_is_304_without_a_body(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    response = get(client, booking, plan["id"], '"1-2026-11-02"')
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == '"1-2026-11-02"'
    assert get(client, booking, plan["id"], 'W/"1-2026-11-02"').status_code == 304
    assert get(client, booking, plan["id"], '"0-x", "1-2026-11-02"').status_code == 304
    assert get(client, booking, plan["id"], "*").status_code == 304


def test_after_a_change_the_old_tag_gets_200_and_a_new_tag(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking, json=report_body()),
       201)
    response = get(client, booking, plan["id"], '"1-2026-11-02"')
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert response.headers["ETag"] == '"2-2026-11-02"'
    assert get(client, booking, plan["id"], '"2-2026-11-02"').status_code == 304


def test_the_tag_changes_at_midnight_in_the_clinics_zone_not_in_utc(client, booking, clinic,
                                                                    clock):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(hours=7)  # 2026-11-03T00:30Z is still 16:30 on 11-02 in Vancouver
    assert get(client, booking, plan["id"], '"1-2026-11-02"').status_code == 304
    clock.advance(hours=8)  # 08:30Z: 00:30 on 11-03 in Vancouver
    response = get(client, booking, plan["id"], '"1-2026-11-02"')
    assert response.status_code == 200 and response.headers["ETag"] == '"1-2026-11-03"'


def test_a_clinic_east_of_vancouver_turns_its_date_earlier(client, other_booking, other_clinic,
                                                           clock):
    plan = make_plan(client, other_booking, other_clinic.id)
    clock.advance(hours=11)  # 04:30Z on 11-03 is 23:30 on 11-02 in Toronto
    assert get(client, other_booking, plan["id"]).headers["ETag"] == '"1-2026-11-02"'
    clock.advance(hours=1)
    assert get(client, other_booking, plan["id"]).headers["ETag"] == '"1-2026-11-03"'


def test_the_window_state_behind_a_new_tag_has_moved_on(client, booking, clinic, clock):
    plan = make_plan(client, booking, clinic.id)
    clock.advance(days=5)
    response = get(client, booking, plan["id"], '"1-2026-11-02"')
    assert response.headers["ETag"] == '"1-2026-11-07"'
    assert response.get_json()["next_visit"]["state"] == "overdue"


def test_the_tag_of_an_action_response_is_the_tag_of_the_next_read(client, booking, physio,
                                                                   clinic):
    plan = make_plan(client, booking, clinic.id)
    done = act(client, physio, plan["id"], {"action": "hold", "reason": "x"})
    assert done.headers["ETag"] == get(client, physio, plan["id"]).headers["ETag"]


def test_if_match_with_the_old_version_is_412_and_star_is_accepted(client, booking, physio,
                                                                   clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    old = get(client, booking, plan["id"]).headers["ETag"]
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking, json=report_body()),
       201)
    body = problem(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, old), 412)
    assert body["type"].endswith(":precondition-failed")
    assert ok(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, "*"))[
        "status"] == "on_hold"


def test_if_match_with_the_current_tag_is_accepted(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    tag = get(client, booking, plan["id"]).headers["ETag"]
    response = act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, tag)
    assert response.status_code == 200 and response.headers["ETag"] == '"2-2026-11-02"'


def test_a_missing_if_match_is_428(client, booking, physio, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    body = problem(client.post(f"{API}/plans/{plan['id']}/actions", headers=physio,
                               json={"action": "hold", "reason": "x"}), 428)
    assert body["type"].endswith(":precondition-required")
