"""The front desk's worklist: overdue first then by target date, `state=` at boundary dates
(`on=`), lapsed vs overdue, and cursor paging that walks every plan exactly once.

Windows used (clinic in Vancouver, open Mon-Fri, the clock at Mon 2026-11-02):
- a consented plan starting today: needling due 11-02..11-06, overdue to 11-09, lapsed after;
- an unconsented plan starting 11-09: assessment upcoming until 11-08, due 11-09..11-16.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.plan_support import API, consent, make_plan, ok


def worklist(client: Any, headers: dict[str, str], clinic_id: str, query: str = "") -> Any:
    return ok(client.get(f"{API}/followups?clinic_id={clinic_id}{query}", headers=headers))


def plan_ids(page: Any) -> list[str]:
    return [item["plan_id"] for item in page["items"]]


@pytest.mark.parametrize(("on", "state"), [
    ("2026-11-02", "due"), ("2026-11-06", "due"), ("2026-11-07", "overdue"),
    ("2026-11-09", "overdue"), ("2026-11-10", "lapsed"), ("2026-12-01", "lapsed"),
], ids=["first-day-due", "latest-day-still-due", "day-after-latest-overdue",
        "latest-plus-interval-still-overdue", "after-recall-lapsed", "long-after-lapsed"])
def test_a_needling_window_is_due_then_overdue_then_lapsed(client, booking, clinic, on, state):
    plan = make_plan(client, booking, clinic.id)
    assert plan["next_visit"]["latest"] == "2026-11-06"
    page = worklist(client, booking, clinic.id, f"&on={on}")
    assert [i["window"]["state"] for i in page["items"]] == [state]
    assert page["items"][0]["on"] == on
    for other in ("upcoming", "due", "overdue", "lapsed", "booked"):
        filtered = worklist(client, booking, clinic.id, f"&on={on}&state={other}")
        assert plan_ids(filtered) == ([plan["id"]] if other == state else []), other


@pytest.mark.parametrize(("on", "state"), [
    ("2026-11-08", "upcoming"), ("2026-11-09", "due"), ("2026-11-16", "due"),
    ("2026-11-17", "overdue"),
])
def test_an_assessment_window_in_the_future_is_upcoming_until_its_first_day(client, booking,
                                                                            clinic, on, state):
    plan = make_plan(client, booking, clinic.id, consent=None, start_date="2026-11-09")
    filtered = worklist(client, booking, clinic.id, f"&on={on}&state={state}")
    assert plan_ids(filtered) == [plan["id"]]


def test_a_booked_plan_is_booked_until_the_booking_passes(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/visits", headers=booking,
                   json={"external_id": "V1", "kind": "needling", "status": "booked",
                         "starts_at": "2026-11-04T18:00:00+00:00"}), 201)
    for on, state in (("2026-11-04", "booked"), ("2026-11-05", "due"), ("2026-11-07", "overdue")):
        page = worklist(client, booking, clinic.id, f"&on={on}&state={state}")
        assert plan_ids(page) == [plan["id"]], on


def test_the_default_day_is_the_clinics_today(client, booking, clinic, clock):
    make_plan(client, booking, clinic.id)
    clock.advance(hours=7)  # 00:30 UTC on 11-03, still 16:30 on 11-02 in Vancouver
    assert worklist(client, booking, clinic.id)["items"][0]["on"] == "2026-11-02"
    clock.advance(hours=8)
    assert worklist(client, booking, clinic.id)["items"][0]["on"] == "2026-11-03"


def make_worklist(client: Any, booking: dict[str, str], clinic_id: str) -> dict[str, str]:
    """Four plans in four states on 11-02; returns name -> plan id."""
    return {
        # needling from 10-27, latest 10-30, overdue through 11-02: target 10-27
        "overdue": make_plan(client, booking, clinic_id, "MRN-O", start_date="2026-10-27",
                             consent=consent(-6))["id"],
        # assessment from 10-01, latest 10-08: lapsed long ago, target 10-01
        "lapsed": make_plan(client, booking, clinic_id, "MRN-L", start_date="2026-10-01",
                            consent=None)["id"],
        # assessment from 10-26, latest 11-02: due today although its target is the oldest
        "due-early": make_plan(client, booking, clinic_id, "MRN-D1", start_date="2026-10-26",
                               consent=None)["id"],
        "due": make_plan(client, booking, clinic_id, "MRN-D2")["id"],
        "upcoming": make_plan(client, booking, clinic_id, "MRN-U", start_date="2026-11-10",
                              consent=None)["id"],
    }


def test_overdue_and_lapsed_come_first_then_the_rest_by_target_date(client, booking, clinic):
    plans = make_worklist(client, booking, clinic.id)
    page = worklist(client, booking, clinic.id, "&on=2026-11-02")
    states = {i["plan_id"]: i["window"]["state"] for i in page["items"]}
    assert states == {plans[n]: n.split("-")[0] for n in plans}
    assert plan_ids(page) == [plans[n] for n in ("lapsed", "overdue", "due-early", "due",
                                                 "upcoming")]
    assert [i["patient_external_id"] for i in page["items"]][0] == "MRN-L"


def test_state_filters_select_exactly_their_plans(client, booking, clinic):
    plans = make_worklist(client, booking, clinic.id)
    for state, names in (("overdue", ["overdue"]), ("lapsed", ["lapsed"]),
                         ("due", ["due-early", "due"]), ("upcoming", ["upcoming"]),
                         ("booked", [])):
        page = worklist(client, booking, clinic.id, f"&on=2026-11-02&state={state}")
        assert plan_ids(page) == [plans[n] for n in names], state


@pytest.mark.parametrize("state", [None, "due"])
def test_limit_one_walks_the_whole_worklist_once_in_order(client, booking, clinic, state):
    make_worklist(client, booking, clinic.id)
    query = "&on=2026-11-02" + (f"&state={state}" if state else "")
    everything = plan_ids(worklist(client, booking, clinic.id, query))
    seen, cursor = [], ""
    for _ in range(10):
        page = worklist(client, booking, clinic.id, f"{query}&limit=1{cursor}")
        assert len(page["items"]) <= 1
        seen += plan_ids(page)
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == everything and len(seen) == (2 if state else 5)


def test_the_worklist_shows_only_the_asked_clinics_plans(client, booking, other_booking, clinic,
                                                         other_clinic, make_headers):
    mine = make_plan(client, booking, clinic.id)
    theirs = make_plan(client, other_booking, other_clinic.id)
    both = make_headers("front_desk", clinic.id, other_clinic.id)
    assert plan_ids(worklist(client, both, clinic.id)) == [mine["id"]]
    assert plan_ids(worklist(client, both, other_clinic.id)) == [theirs["id"]]
