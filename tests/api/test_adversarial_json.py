"""Adversarial JSON (issue #11) at every POST and PATCH: deep nesting, huge numbers, wrong
types and odd Unicode, as whole bodies and in place of each field of a valid body. Never a
5xx, and a rejected request (4xx) changes nothing in the database."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from scheduler import migrate as schema
from scheduler.services import patients, plans, visits
from scheduler.services import staff as staff_service
from tests.api.plan_support import iso, plan_body, report_body, visit_body
from tests.builders import ACTOR as SETUP
from tests.builders import subscribe

PLACEHOLDER = '"__ADVERSARIAL__"'
IGNORED_COLUMNS = {("api_keys", "last_used_at")}  # a read records it (once a minute)

ODD_STRINGS = ["", " ", "\x00", "\ud800", "\udfff", "\ud83d\ude00", "\u202e", "\ufeff", "a\u0301",
               "\U0010ffff", "\u0665", "NaN", "1e999", "null", "x" * 10_000, "\n\r\t", "<script>",
               "../../etc/passwd", "' OR 1=1 --", "%00", "\\u0000"]


def _json_text(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: lone surrogates become \\udxxx escapes


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50), st.sampled_from(ODD_STRINGS),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=20).map(_json_text)
deep = st.builds(lambda n, kind: ("[" * n + "]" * n) if kind else ('{"a":' * n + "1" + "}" * n),
                 st.integers(1, 3000), st.booleans())
huge_numbers = st.one_of(
    st.integers(1, 5000).map(lambda n: "9" * n), st.integers(1, 5000).map(lambda n: "-1" + "0" * n),
    st.sampled_from(["1e999", "-1e999", "1E-999", "0.1e400", "-0", "-0.0", "1.5", "2e0",
                     "123456789012345678901234567890123", "NaN", "Infinity", "-Infinity"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)
malformed = st.sampled_from(["", "{", "[1,]", '{"a" 1}', "00", "'x'", '{"a":1}}', "\ufeff{}",
                             "{} {}", "[" * 10])
literals = st.one_of(json_values, deep, huge_numbers, malformed,
                     st.sampled_from(["null", "true", "[]", "{}", '"x"', "0", "[1, 2]"]))


def _mutations(body: dict[str, Any]) -> st.SearchStrategy[str]:
    """`body` with one (possibly nested) field replaced by an adversarial literal."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                paths.append((*path, key))
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                paths.append((*path, index))
                walk(item, (*path, index))

    walk(body, ())

    def replace(path: tuple[Any, ...], literal: str) -> str:
        copy = json.loads(json.dumps(body))
        target = copy
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = PLACEHOLDER.strip('"')
        return json.dumps(copy).replace(PLACEHOLDER, literal, 1)

    extra = st.builds(lambda key, literal: json.dumps(body)[:-1] + f", {json.dumps(key)}: "
                      f"{literal}}}", st.sampled_from(["x", "\x00", "\ud800", "id", "version"]),
                      literals)
    if not paths:  # a body-less operation: what is sent is extra (or broken) alone
        return extra
    return st.one_of(st.builds(replace, st.sampled_from(paths), literals), extra)


def snapshot(engine: Any) -> str:
    """A digest of every row of every table the migrations created."""
    digest = hashlib.sha256()
    tables = [t for t in schema.all_metadata().sorted_tables
              if t.name in set(inspect(engine).get_table_names())]
    with engine.connect() as connection:
        for table in tables:
            columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS]
            rows = sorted(repr(tuple(row)) for row in connection.execute(select(*columns)))
            digest.update(f"{table.name}:{rows}".encode())  # sorted here: PG cannot sort JSON
    return digest.hexdigest()


@pytest.fixture
def world(client, uow_factory, clinic, make_headers, now, admin) -> dict[str, Any]:
    patient = patients.create_patient(uow_factory(), clinic_id=clinic.id, external_id="MRN-A",
                                      actor=SETUP, now=now)
    other = patients.create_patient(uow_factory(), clinic_id=clinic.id, external_id="MRN-B",
                                    actor=SETUP, now=now)
    plan = plans.create_plan(uow_factory(), patient_id=patient.id, condition="neck pain",
                             onset_date=now.date() - timedelta(days=100),
                             baseline={"pain": 7, "function": 4}, neuropathic_symptoms=True,
                             consent={"recorded_at": now, "recorded_by": "physio:1"},
                             actor=SETUP, now=now)
    visit = visits.record_visit(uow_factory(), plan.id, external_id="V-A", kind="needling",
                                starts_at=now + timedelta(days=3), status="booked",
                                actor=SETUP, now=now)
    ruleset = client.get("/api/v1/rulesets/ims-default@1", headers=admin).get_json()
    ruleset = {k: v for k, v in ruleset.items() if k not in ("id", "builtin")}
    ruleset.update(name="adversarial", version=2)
    booking = make_headers("booking_system", clinic.id)
    physio = make_headers("physiotherapist", clinic.id)
    staff = staff_service.create_staff(uow_factory(), email="physio@clinic.example", name="P",
                                       role="physiotherapist", clinic_ids=[clinic.id],
                                       actor=SETUP, now=now)
    star = {"If-Match": "*"}
    hook = subscribe(uow_factory, clinic.id, "http://127.0.0.1:9/h", now).webhook.id
    return {  # (method, path, headers, a valid body)
        "POST /clinics": ("POST", "/api/v1/clinics", admin,
                          {"name": "K", "timezone": "UTC", "open_weekdays": [0, 1],
                           "closures": ["2026-12-24"], "holiday_region": "CA-BC"}),
        "PATCH /clinics/{id}": ("PATCH", f"/api/v1/clinics/{clinic.id}", {**admin, **star},
                                {"name": "K2", "open_weekdays": [2]}),
        "POST /api-keys": ("POST", "/api/v1/api-keys", admin,
                           {"name": "k", "role": "booking_system", "clinic_ids": [clinic.id],
                            "expires_at": iso(30)}),
        "POST /patients": ("POST", "/api/v1/patients", booking,
                           {"clinic_id": clinic.id, "external_id": "M-1", "display_name": "A"}),
        "POST /plans": ("POST", "/api/v1/plans", booking,
                        plan_body(other.id, consent={"recorded_at": iso(hours=-1),
                                                     "recorded_by": "physio:2"},
                                  authorization={"payer": "PBC", "visits_allowed": 6,
                                                 "valid_until": "2027-01-31",
                                                 "count_no_shows": True})),
        "POST /plans/{id}/actions": ("POST", f"/api/v1/plans/{plan.id}/actions",
                                     {**physio, **star},
                                     {"action": "override", "reason": "x", "until": "2026-12-01",
                                      "frequency": {"frequency": 1, "period": 1}}),
        "POST /plans/{id}/reports": ("POST", f"/api/v1/plans/{plan.id}/reports", booking,
                                     report_body(function=5, global_change=2, soreness_hours=4,
                                                 notes="n")),
        "POST /plans/{id}/visits": ("POST", f"/api/v1/plans/{plan.id}/visits", booking,
                                    visit_body("V-N")),
        "PATCH /visits/{id}": ("PATCH", f"/api/v1/visits/{visit.id}", booking,
                               {"status": "cancelled", "starts_at": iso(4),
                                "cancellation_reason": "feeling_better",
                                "needs_reschedule": False}),
        "POST /rulesets": ("POST", "/api/v1/rulesets", admin, ruleset),
        "POST /webhooks": ("POST", "/api/v1/webhooks", booking,
                           {"clinic_id": clinic.id, "url": "https://example.test/h",
                            "events": ["plan.created"]}),
        "PATCH /webhooks/{id}": ("PATCH", f"/api/v1/webhooks/{hook}", booking,
                                 {"enabled": True}),
        "POST /webhooks/{id}/rotate-secret": ("POST", f"/api/v1/webhooks/{hook}/rotate-secret",
                                              booking, {}),
        "POST /webhooks/{id}/replay": ("POST", f"/api/v1/webhooks/{hook}/replay", booking,
                                       {"since": iso(-1)}),
        "POST /clinics/{id}/calendar-feeds": ("POST", f"/api/v1/clinics/{clinic.id}/calendar-feeds",
                                              booking, {}),
        "POST /plans/{id}/checkins": ("POST", f"/api/v1/plans/{plan.id}/checkins", booking,
                                      {"expires_in_hours": 48}),
        "POST /rulesets/what-if": ("POST", "/api/v1/rulesets/what-if", physio,
                                   {"clinic_id": clinic.id, "candidate": "ims-default@1",
                                    "as_of": iso(1)}),
        "POST /staff": ("POST", "/api/v1/staff", admin,
                        {"email": "desk@clinic.example", "name": "Robin", "role": "front_desk",
                         "clinic_ids": [clinic.id], "password": "twelve chars long"}),
        "PATCH /staff/{id}": ("PATCH", f"/api/v1/staff/{staff.id}", admin,
                              {"name": "Robin B", "role": "physiotherapist",
                               "clinic_ids": [clinic.id], "disabled": True}),
        "POST /plans/{id}/contacts": ("POST", f"/api/v1/plans/{plan.id}/contacts",
                                      make_headers("front_desk", clinic.id),
                                      {"channel": "phone", "outcome": "left_message",
                                       "note": "n", "snooze_until": "2026-11-05"}),
    }


OPERATIONS = ["POST /clinics", "PATCH /clinics/{id}", "POST /api-keys", "POST /patients",
              "POST /plans", "POST /plans/{id}/actions", "POST /plans/{id}/reports",
              "POST /plans/{id}/visits", "PATCH /visits/{id}", "POST /rulesets",
              "POST /webhooks", "PATCH /webhooks/{id}", "POST /webhooks/{id}/rotate-secret",
              "POST /webhooks/{id}/replay", "POST /clinics/{id}/calendar-feeds",
              "POST /rulesets/what-if", "POST /staff", "PATCH /staff/{id}",
              "POST /plans/{id}/contacts", "POST /plans/{id}/checkins"]


def test_every_post_and_patch_is_listed(app):
    routes = {re.sub(r"<[^>]+>", "{id}", f"{method} {rule.rule}").replace(" /api/v1", " ")
              for rule in app.url_map.iter_rules()
              for method in rule.methods & {"POST", "PATCH"} if rule.rule.startswith("/api/v1")}
    assert routes == set(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS)
def test_adversarial_json_is_a_4xx_that_changes_nothing(client, engine, world, operation):
    method, path, headers, valid = world[operation]
    sent = client.open(path, method=method, headers=headers, json=valid)
    assert sent.status_code < 300, sent.get_data(as_text=True)  # the valid body is valid

    @given(raw=st.one_of(literals, _mutations(valid)))
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def attack(raw: str) -> None:
        before = snapshot(engine)
        response = client.open(path, method=method, headers=headers, data=raw.encode(
            "utf-8", "surrogatepass"), content_type="application/json")
        assert response.status_code < 500, (raw[:300], response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
            assert snapshot(engine) == before, (raw[:300], response.status_code)

    attack()
