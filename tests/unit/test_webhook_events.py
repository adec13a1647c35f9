"""Which webhook events a decision's before/after snapshots call for (no database)."""

from __future__ import annotations

import pytest

import rules
from scheduler.webhooks.outbox import EVENT_TYPES, plan_change_events

TWICE = rules.Frequency(2, 1, "wk")
ONCE = rules.Frequency(1, 1, "wk")


def snap(phase: str = "initial", status: str = "active", frequency: rules.Frequency = TWICE,
         computed: rules.Frequency | None = None,
         reasons: tuple[str, ...] = ()) -> rules.Snapshot:
    return rules.Snapshot(phase, status, frequency, computed or frequency, reasons, ())


def types(before: rules.Snapshot | None, after: rules.Snapshot) -> list[str]:
    return [kind for kind, _ in plan_change_events(before, after)]


def test_every_emitted_type_is_a_contract_event_type() -> None:
    assert set(EVENT_TYPES) == {"plan.created", "plan.phase_changed", "plan.frequency_changed",
                                "plan.status_changed", "plan.review_required",
                                "followup.due", "followup.overdue",
                                "plan.authorization_low", "checkin.suggested"}  # api.md: "later"


def test_a_new_plan_is_plan_created_with_its_state() -> None:
    [(kind, data)] = plan_change_events(None, snap())
    assert kind == "plan.created"
    assert data == {"phase": "initial", "status": "active",
                    "frequency": {"frequency": 2, "period": 1, "period_unit": "wk"},
                    "review": {"required": False, "reasons": []}}


def test_a_new_plan_that_already_needs_review_also_says_so() -> None:
    assert types(None, snap(reasons=("worsening",))) == ["plan.created", "plan.review_required"]


def test_an_unchanged_plan_emits_nothing() -> None:
    assert plan_change_events(snap(), snap()) == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(snap(), snap(phase="middle", frequency=ONCE),
                     ["plan.phase_changed", "plan.frequency_changed"],
                     id="stepped-down-to-middle-at-once-a-week"),
        pytest.param(snap(), snap(status="on_hold"), ["plan.status_changed"], id="put-on-hold"),
        pytest.param(snap(), snap(frequency=ONCE, computed=TWICE), ["plan.frequency_changed"],
                     id="physio-override-changes-the-frequency-in-force"),
        pytest.param(snap(), snap(computed=ONCE), [],
                     id="computed-frequency-under-an-override-is-not-a-change"),
        pytest.param(snap(), snap(reasons=("worsening",)), ["plan.review_required"],
                     id="review-becomes-required"),
        pytest.param(snap(reasons=("worsening",)), snap(reasons=("worsening", "adverse_event")),
                     ["plan.review_required"], id="review-gains-a-reason"),
        pytest.param(snap(reasons=("worsening",)), snap(reasons=("worsening",)), [],
                     id="same-review-reason-again"),
        pytest.param(snap(reasons=("worsening",)), snap(), [], id="review-cleared"),
    ],
)
def test_changes_map_to_their_events(before: rules.Snapshot, after: rules.Snapshot,
                                     expected: list[str]) -> None:
    assert types(before, after) == expected


def test_a_change_event_names_the_previous_value() -> None:
    events = dict(plan_change_events(snap(), snap(phase="middle", frequency=ONCE,
                                                  status="on_hold")))
    assert events["plan.phase_changed"]["previous"] == {"phase": "initial"}
    assert events["plan.phase_changed"]["phase"] == "middle"
    assert events["plan.frequency_changed"]["previous"] == {"frequency": TWICE.to_dict()}
    assert events["plan.status_changed"]["previous"] == {"status": "active"}


def test_review_required_lists_only_the_new_reasons() -> None:
    [(_, data)] = plan_change_events(snap(reasons=("worsening",)),
                                     snap(reasons=("worsening", "adverse_event")))
    assert data["new_reasons"] == ["adverse_event"]
    assert data["review"] == {"required": True, "reasons": ["worsening", "adverse_event"]}
