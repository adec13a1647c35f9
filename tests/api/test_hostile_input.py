"""Hostile input (issue #11): every finding of the probe is a 4xx with a problem body, never
a 500, and values that are not what the contract says are refused instead of echoed."""

from __future__ import annotations

import json
import logging

import pytest

from tests.api.plan_support import API, act, make_plan, ok, report_body
from tests.builders import footprint

CT = {"Content-Type": "application/json"}


def patch_clinic(client, admin, clinic_id, if_match, body=None):
    return client.patch(f"{API}/clinics/{clinic_id}", json=body or {"name": "Renamed"},
                        headers={**admin, "If-Match": if_match})


# -- If-Match (RFC 9110 section 13.1.1) ------------------------------------------------------

def test_an_empty_quoted_tag_is_412_on_a_clinic_and_a_plan_not_500(client, admin, booking,
                                                                    physio, clinic, problem):
    problem(patch_clinic(client, admin, clinic.id, '""'), 412)
    plan = make_plan(client, booking, clinic.id)
    problem(act(client, physio, plan["id"], {"action": "hold", "reason": "x"}, '""'), 412)
    assert ok(client.get(f"{API}/plans/{plan['id']}", headers=physio))["status"] == "active"


def test_a_list_passes_when_any_tag_matches_even_one_sorting_after_another(client, admin,
                                                                           clinic):
    ok(patch_clinic(client, admin, clinic.id, '"1"'))  # now at version 2
    # As sorted strings "10" < "2": the old code took "10" and answered 412.
    response = patch_clinic(client, admin, clinic.id, '"2", "10"', {"name": "Again"})
    assert ok(response)["version"] == 3
    response = patch_clinic(client, admin, clinic.id, '"9", "3"', {"name": "Once more"})
    assert ok(response)["version"] == 4


def test_a_plan_list_passes_when_a_later_tag_names_the_version(client, booking, physio, clinic):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking, json=report_body()),
       201)  # version 2; as sorted strings "10-..." comes before "2-..."
    assert ok(act(client, physio, plan["id"], {"action": "hold", "reason": "x"},
                  '"2-2026-11-02", "10-2026-11-02"'))["status"] == "on_hold"


def test_a_list_where_no_tag_matches_is_412(client, admin, clinic, problem):
    problem(patch_clinic(client, admin, clinic.id, '"5", "7"'), 412)


def test_star_passes_for_any_version(client, admin, clinic):
    assert ok(patch_clinic(client, admin, clinic.id, "*"))["name"] == "Renamed"


def test_a_weak_tag_never_matches_if_match_uses_strong_comparison(client, admin, clinic,
                                                                   problem):
    problem(patch_clinic(client, admin, clinic.id, 'W/"1"'), 412)
    assert ok(patch_clinic(client, admin, clinic.id, 'W/"1", "1"'))["version"] == 2


def test_an_empty_if_match_is_an_empty_list_and_412(client, admin, clinic, problem):
    problem(patch_clinic(client, admin, clinic.id, ""), 412)
    problem(patch_clinic(client, admin, clinic.id, " , ,"), 412)


def test_a_malformed_if_match_is_400_naming_the_header(client, admin, clinic, problem):
    for value in ("1", '"1', '"1" "2"', "**", 'W/1'):
        body = problem(patch_clinic(client, admin, clinic.id, value), 400)
        assert list(body["errors"]) == ["If-Match"], value


def test_a_missing_if_match_is_still_428(client, admin, clinic, problem):
    problem(client.patch(f"{API}/clinics/{clinic.id}", json={"name": "x"}, headers=admin), 428)


# -- bodies bounded before parsing -----------------------------------------------------------

def test_deeply_nested_arrays_are_400_and_log_no_trace(client, booking, clinic, problem,
                                                       caplog: pytest.LogCaptureFixture):
    raw = '{"clinic_id": "' + clinic.id + '", "external_id": ' + "[" * 484 + "]" * 484 + "}"
    with caplog.at_level(logging.WARNING):
        body = problem(client.post(f"{API}/patients", headers=booking, data=raw,
                                   content_type="application/json"), 400)
    assert "nests deeper" in body["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nesting_past_the_json_parsers_recursion_limit_is_400(client, booking, problem):
    raw = "[" * 200_000 + "]" * 200_000
    problem(client.post(f"{API}/patients", headers=booking, data=raw,
                        content_type="application/json"), 400)


def test_a_4301_digit_integer_is_400(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    raw = json.dumps(report_body())[:-1] + ', "soreness_hours": ' + "9" * 4301 + "}"
    body = problem(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking, data=raw,
                               content_type="application/json"), 400)
    assert "characters" in body["detail"]


def test_nan_and_infinity_are_not_json(client, booking, clinic, problem):
    plan = make_plan(client, booking, clinic.id)
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        raw = json.dumps(report_body())[:-1] + f', "soreness_hours": {literal}}}'
        problem(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking, data=raw,
                            content_type="application/json"), 400)


def test_a_body_that_is_not_utf8_is_400(client, booking, problem):
    problem(client.post(f"{API}/patients", headers=booking, data=b'{"a": "\xff"}',
                        content_type="application/json"), 400)


@pytest.mark.parametrize("version", [10**30, 2**63, 2**31, 10**9, 0, -1])
def test_a_ruleset_version_out_of_range_is_422_naming_it(client, admin, problem, version):
    ruleset = client.get(f"{API}/rulesets/ims-default@1", headers=admin).get_json()
    ruleset = {k: v for k, v in ruleset.items() if k not in ("id", "builtin")}
    ruleset["version"] = version
    body = problem(client.post(f"{API}/rulesets", headers=admin, json=ruleset), 422)
    assert list(body["errors"]) == ["version"]


def test_the_largest_ruleset_version_is_stored_and_readable(client, admin):
    ruleset = client.get(f"{API}/rulesets/ims-default@1", headers=admin).get_json()
    ruleset = {k: v for k, v in ruleset.items() if k not in ("id", "builtin")}
    ruleset.update(name="clinic-max", version=999_999_999)
    ok(client.post(f"{API}/rulesets", headers=admin, json=ruleset), 201)
    assert ok(client.get(f"{API}/rulesets/clinic-max@999999999", headers=admin))["version"] \
        == 999_999_999


# -- strict RFC 3339 and ASCII query integers ------------------------------------------------

@pytest.mark.parametrize("stamp", [
    "2026-11-02T10:00:00+00:00:01", "20261102T100000Z", "2026-W45-1T10:00:00Z",
    "2026-11-02 10:00:00Z", "2026-11-02T10:00Z", "2026-11-02T10:00:00", "2026-306T10:00:00Z",
    "2026-11-02T10:00:00+0000", "2026-11-02T10:00:00.Z",
])
def test_timestamps_that_are_not_rfc_3339_are_422(client, booking, clinic, problem, uow,
                                                  stamp):
    plan = make_plan(client, booking, clinic.id)
    before = footprint(uow, plan["id"])
    body = problem(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                               json=report_body(recorded_at=stamp)), 422)
    assert list(body["errors"]) == ["recorded_at"]
    assert footprint(uow, plan["id"]) == before


@pytest.mark.parametrize("stamp", ["2026-11-02T10:00:00Z", "2026-11-02t10:00:00z",
                                   "2026-11-02T02:00:00.123456789-08:00"])
def test_rfc_3339_timestamps_are_accepted(client, booking, clinic, stamp):
    plan = make_plan(client, booking, clinic.id)
    ok(client.post(f"{API}/plans/{plan['id']}/reports", headers=booking,
                   json=report_body(recorded_at=stamp)), 201)


@pytest.mark.parametrize("day", ["20261224", "2026-W52-4", "2026-358", "2026-12-24T00:00:00Z"])
def test_dates_that_are_not_full_dates_are_422(client, admin, problem, day):
    body = problem(client.post(f"{API}/clinics", headers=admin, json={
        "name": "K", "timezone": "UTC", "open_weekdays": [0], "closures": [day]}), 422)
    assert list(body["errors"]) == ["closures.0"]


@pytest.mark.parametrize("value", ["\u0665", "5_0", "+5", " 5", "5 ", "0x5", "5.0", "-5"])
def test_query_integers_are_ascii_digits_only(client, booking, clinic, problem, value):
    plan = make_plan(client, booking, clinic.id)
    problem(client.get(f"{API}/patients", headers=booking, query_string={"limit": value}), 422)
    problem(client.get(f"{API}/plans/{plan['id']}/schedule", headers=booking,
                       query_string={"count": value}), 422)
    problem(client.get(f"{API}/plans", headers=booking, query_string={"limit": value}), 422)


def test_plain_digits_still_work_in_queries(client, booking, clinic):
    plan = make_plan(client, booking, clinic.id)
    items = ok(client.get(f"{API}/plans/{plan['id']}/schedule?count=3", headers=booking))
    assert len(items["items"]) == 3


# -- media type ------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonx"])
def test_a_body_without_json_content_type_is_415(client, booking, clinic, problem,
                                                 content_type):
    raw = json.dumps({"clinic_id": clinic.id, "external_id": "MRN-1"})
    headers = dict(booking)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post(f"{API}/patients", headers=headers, data=raw)
    body = problem(response, 415)
    assert "errors" not in body
    assert ok(client.get(f"{API}/patients", headers=booking))["items"] == []


def test_json_with_a_charset_or_a_json_suffix_is_accepted(client, booking, clinic):
    for index, content_type in enumerate(("application/json; charset=utf-8",
                                          "application/merge-patch+json")):
        ok(client.post(f"{API}/patients", headers={**booking, "Content-Type": content_type},
                       data=json.dumps({"clinic_id": clinic.id,
                                        "external_id": f"MRN-{index}"})), 201)


def test_the_415_comes_after_authentication(client, problem):
    problem(client.post(f"{API}/patients", data="x", content_type="text/plain"), 401)
