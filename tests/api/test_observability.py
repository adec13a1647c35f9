"""Request ids end to end, the access line, GET /metrics and the monitoring role, /readyz."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from config import Settings
from scheduler.jobs.heartbeat import beat
from scheduler.models import AuditEntry, OutboxEvent, WebhookDelivery
from tests.api.plan_support import API, consent, make_plan, ok, plan_body, report_body
from tests.integration.webhook_support import deliver


@pytest.fixture
def settings(database_url: str) -> Settings:
    # DEBUG: the access lines (INFO) reach the captured log; no scrape-time cache
    return Settings(database_url=database_url, testing=True, log_level="DEBUG",
                    metrics_cache_seconds=0, webhook_allow_private_networks=True)


@pytest.mark.parametrize("sent", ["abc", "a" * 128, "Zz09._-"], ids=["short", "128", "charset"])
def test_a_valid_client_request_id_is_echoed(client, sent) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"] == sent


@pytest.mark.parametrize("sent", ["", "a" * 129, "has space", "semi;colon", "é"],
                         ids=["empty", "129", "space", "semicolon", "non-ascii"])
def test_an_invalid_request_id_is_replaced_by_a_new_one(client, sent) -> None:
    got = client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"]
    assert got != sent and 1 <= len(got) <= 128


def test_every_response_gets_its_own_id(client) -> None:
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_the_request_id_reaches_the_problem_the_audit_the_outbox_and_the_webhook_log(
        client, booking, admin, clinic, uow_factory, clock, json_logs) -> None:
    bad = client.get(f"{API}/plans/pln_missing", headers={**booking, "X-Request-Id": "rq-404"})
    assert bad.status_code == 404 and bad.get_json()["instance"] == "urn:request:rq-404"
    hook = client.post(f"{API}/webhooks", headers=booking, json={
        "clinic_id": clinic.id, "url": "https://booking.example/in", "events": ["plan.created"]})
    assert hook.status_code == 201
    patient = ok(client.post(f"{API}/patients", headers=booking,
                             json={"clinic_id": clinic.id, "external_id": "MRN-1"}), 201)
    created = client.post(f"{API}/plans", headers={**booking, "X-Request-Id": "rq-plan-1"},
                          json=plan_body(patient["id"], consent=consent()))
    assert created.status_code == 201 and created.headers["X-Request-Id"] == "rq-plan-1"
    plan_id = created.get_json()["id"]
    with uow_factory() as uow:
        audit = uow.session.scalars(select(AuditEntry.request_id)
                                    .where(AuditEntry.plan_id == plan_id)).all()
        events = uow.session.scalars(select(OutboxEvent.request_id)
                                     .where(OutboxEvent.plan_id == plan_id)).all()
    assert audit == ["rq-plan-1"] and events == ["rq-plan-1"]
    trail = ok(client.get(f"{API}/audit?plan_id={plan_id}", headers=admin))["items"]
    assert [e["request_id"] for e in trail] == ["rq-plan-1"]

    deliver(uow_factory, now=clock.now, send=lambda url, headers, body: 204)
    [attempt] = json_logs.events("webhook attempt")
    assert attempt["request_id"] == "rq-plan-1"
    assert attempt["subscription"] == hook.get_json()["id"]
    assert (attempt["attempt"], attempt["status"], attempt["outcome"]) == (1, 204, "succeeded")
    assert attempt["message_id"].startswith("msg_")

    [access] = [x for x in json_logs.events("request") if x["request_id"] == "rq-plan-1"]
    assert access["route"] == "/api/v1/plans" and access["method"] == "POST"
    assert access["status"] == 201 and access["duration_ms"] > 0
    assert access["key_id"].startswith("key_") and access["clinic_id"] == clinic.id
    assert access["level"] == "info" and access["logger"] == "cadence.access"


def test_the_access_line_names_the_route_template_never_the_query(client, booking, clinic,
                                                                  json_logs) -> None:
    plan = make_plan(client, booking, clinic.id, "MRN-1001")
    client.get(f"{API}/patients?clinic_id={clinic.id}&external_id=MRN-1001", headers=booking)
    client.get(f"{API}/plans/{plan['id']}/next-visit", headers=booking)
    lines = json_logs.events("request")
    assert [x["route"] for x in lines[-2:]] == ["/api/v1/patients",
                                                "/api/v1/plans/<plan_id>/next-visit"]
    assert lines[-1]["plan_id"] == plan["id"] and lines[-1]["clinic_id"] == clinic.id
    assert "MRN-1001" not in json_logs.text()


def test_a_client_id_in_a_path_segment_is_not_logged_as_a_plan_id(client, booking,
                                                                  json_logs) -> None:
    client.get(f"{API}/plans/MRN-1001", headers=booking)
    [line] = json_logs.events("request")
    assert line["plan_id"] is None and line["status"] == 404


# --- GET /metrics -------------------------------------------------------------------------


def scrape(client, headers) -> dict[str, list]:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {f.name: f.samples for f in text_string_to_metric_families(response.get_data(
        as_text=True))}


def value(families, name, **labels) -> float:  # type: ignore[no-untyped-def]
    family, _, sample_name = name.partition(":")
    return sum(s.value for s in families.get(family, [])
               if (not sample_name or s.name == sample_name)
               and all(s.labels.get(k) == v for k, v in labels.items()))


FAMILIES = ("cadence_http_requests", "cadence_http_request_duration_seconds",
            "cadence_decisions", "cadence_rules_fired", "cadence_plans",
            "cadence_outbox_pending_messages", "cadence_outbox_oldest_pending_age_seconds",
            "cadence_webhook_deliveries", "cadence_webhook_deliveries_by_status",
            "cadence_webhook_subscriptions", "cadence_leader_heartbeat_age_seconds",
            "cadence_nightly_overdue", "cadence_nightly_completed_timestamp_seconds",
            "cadence_idempotency", "cadence_scheduler_job_errors")


def test_metrics_move_with_requests_decisions_deliveries_and_replays(
        client, make_headers, booking, clinic, uow_factory, clock) -> None:
    monitor = make_headers("monitoring")
    route = "/api/v1/plans/<plan_id>/reports"
    client.post(f"{API}/webhooks", headers=booking, json={
        "clinic_id": clinic.id, "url": "https://booking.example/in", "events": ["plan.created"]})
    before = scrape(client, monitor)
    assert set(FAMILIES) <= set(before), set(FAMILIES) - set(before)
    plan = make_plan(client, booking, clinic.id)
    posted = {**booking, "Idempotency-Key": "k-1"}
    body = report_body(pain=4)
    assert client.post(f"{API}/plans/{plan['id']}/reports", headers=posted,
                       json=body).status_code == 201
    replay = client.post(f"{API}/plans/{plan['id']}/reports", headers=posted, json=body)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    pending = scrape(client, monitor)
    assert value(pending, "cadence_http_requests", route=route, method="POST",
                 status="201") - value(before, "cadence_http_requests", route=route,
                                       method="POST", status="201") == 2
    assert value(pending, "cadence_http_request_duration_seconds:"
                 "cadence_http_request_duration_seconds_count", route=route) >= 2
    assert value(pending, "cadence_decisions", trigger="report") - value(
        before, "cadence_decisions", trigger="report") == 1
    assert value(pending, "cadence_rules_fired") > value(before, "cadence_rules_fired")
    assert value(pending, "cadence_idempotency", outcome="replay") - value(
        before, "cadence_idempotency", outcome="replay") == 1
    assert value(pending, "cadence_plans", status="active") == 1
    assert value(pending, "cadence_outbox_pending_messages") == 1
    assert value(pending, "cadence_webhook_subscriptions", state="active") == 1
    clock.advance(minutes=3)
    aged = scrape(client, monitor)
    assert value(aged, "cadence_outbox_oldest_pending_age_seconds") == 180
    deliver(uow_factory, now=clock.now, send=lambda url, headers, body: 200)
    delivered = scrape(client, monitor)
    assert value(delivered, "cadence_outbox_pending_messages") == 0
    assert value(delivered, "cadence_webhook_deliveries_by_status", status="succeeded") == 1
    assert value(delivered, "cadence_webhook_deliveries", outcome="succeeded") - value(
        before, "cadence_webhook_deliveries", outcome="succeeded") == 1


def test_heartbeat_and_nightly_gauges(client, make_headers, clinic, uow_factory, clock) -> None:
    monitor = make_headers("monitoring")
    assert scrape(client, monitor)["cadence_leader_heartbeat_age_seconds"] == []  # never beat
    beat(uow_factory(), instance_id="i-1", role="leader", started_at=clock.now, now=clock.now)
    clock.advance(seconds=40)
    families = scrape(client, monitor)
    assert value(families, "cadence_leader_heartbeat_age_seconds") == 40
    # T0 is 09:30 in Vancouver: past 06:00, no pass recorded today -> overdue
    assert value(families, "cadence_nightly_overdue", clinic_id=clinic.id) == 1
    from scheduler.jobs.nightly import run_nightly
    run_nightly(uow_factory, clock.now)
    families = scrape(client, monitor)
    assert value(families, "cadence_nightly_overdue", clinic_id=clinic.id) == 0
    assert value(families, "cadence_nightly_completed_timestamp_seconds",
                 clinic_id=clinic.id) == clock.now.timestamp()


@pytest.mark.parametrize("role", ["monitoring", "admin"])
def test_monitoring_and_admin_keys_read_metrics(client, make_headers, role) -> None:
    assert "cadence_http_requests" in scrape(client, make_headers(role))


def test_other_keys_and_no_key_may_not_read_metrics(client, booking, problem) -> None:
    problem(client.get("/metrics", headers=booking), 403)
    problem(client.get("/metrics"), 401)
    problem(client.get("/metrics", headers={"Authorization": "Bearer ims_x_y"}), 401)


def test_a_monitoring_key_has_no_clinics_and_reads_nothing_else(client, app, admin,
                                                                 clinic, problem) -> None:
    issued = client.post(f"{API}/api-keys", headers=admin,
                         json={"name": "prom", "role": "monitoring"})
    assert issued.status_code == 201 and issued.get_json()["clinic_ids"] == []
    scoped = client.post(f"{API}/api-keys", headers=admin, json={
        "name": "prom", "role": "monitoring", "clinic_ids": [clinic.id]})
    assert "clinic_ids" in problem(scoped, 422)["errors"]
    monitor = {"Authorization": f"Bearer {issued.get_json()['key']}"}
    sample = {"clinic_id": clinic.id, "plan_id": "pln_x", "key_id": "key_x", "patient_id": "x",
              "visit_id": "vis_x", "webhook_id": "whk_x", "ruleset_id": "ims-default@1",
              "feed_id": "cal_x", "job_id": "wif_x", "staff_id": "stf_x",
              "checkin_id": "chk_x"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", sample[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=monitor, json={})
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            checked += 1
    assert checked >= 30
    assert client.get("/metrics", headers=monitor).status_code == 200


def test_metrics_can_be_turned_off(database_url, engine, make_headers) -> None:
    from api import create_app
    app = create_app(Settings(database_url=database_url, testing=True, metrics_enabled=False))
    try:
        response = app.test_client().get("/metrics", headers=make_headers("monitoring"))
        assert response.status_code == 404
    finally:
        app.extensions["cadence"].engine.dispose()


# --- /readyz ---------------------------------------------------------------------------------


def test_readyz_reports_every_check(client) -> None:
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["reason"] is None
    checks = body["checks"]
    assert checks["database"]["ok"] is True and checks["database"]["round_trip_ms"] >= 0
    assert checks["migrations"]["ok"] is True
    assert checks["migrations"]["current"] == checks["migrations"]["head"]
    assert checks["scheduler"] == {"ok": True, "status": "absent", "last_heartbeat": None,
                                   "age_seconds": None}
    assert checks["outbox"] == {"ok": True, "pending": 0, "oldest_pending_age_seconds": None,
                                "threshold_seconds": 600}


def test_readyz_is_degraded_but_200_when_the_backlog_is_old(client, booking, clinic,
                                                           uow_factory, clock) -> None:
    client.post(f"{API}/webhooks", headers=booking, json={
        "clinic_id": clinic.id, "url": "https://booking.example/in", "events": ["plan.created"]})
    make_plan(client, booking, clinic.id)
    clock.advance(minutes=10)
    assert client.get("/readyz").get_json()["status"] == "ok"  # exactly at the threshold
    clock.advance(seconds=1)
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["outbox"] == {"ok": False, "pending": 1,
                                        "oldest_pending_age_seconds": 601.0,
                                        "threshold_seconds": 600}


def test_readyz_is_503_when_the_leader_is_stale(client, uow_factory, clock, problem) -> None:
    beat(uow_factory(), instance_id="i-1", role="leader", started_at=clock.now, now=clock.now)
    clock.advance(seconds=60)
    assert client.get("/readyz").get_json()["checks"]["scheduler"]["age_seconds"] == 60
    clock.advance(seconds=31)
    body = problem(client.get("/readyz"), 503, ("checks",))
    assert "scheduler stale" in body["detail"]
    assert body["checks"]["scheduler"]["ok"] is False
    assert body["checks"]["scheduler"]["age_seconds"] == 91


def test_readyz_needs_a_scheduler_when_required(database_url, engine, problem) -> None:
    from api import create_app
    app = create_app(Settings(database_url=database_url, testing=True, require_scheduler=True))
    try:
        body = problem(app.test_client().get("/readyz"), 503, ("checks",))
    finally:
        app.extensions["cadence"].engine.dispose()
    assert body["checks"]["scheduler"]["status"] == "absent"


def test_the_outbox_age_ignores_finished_deliveries(client, booking, clinic, uow_factory,
                                                   clock) -> None:
    client.post(f"{API}/webhooks", headers=booking, json={
        "clinic_id": clinic.id, "url": "https://booking.example/in", "events": ["plan.created"]})
    make_plan(client, booking, clinic.id)
    with uow_factory() as uow:
        uow.session.execute(update(WebhookDelivery).values(status="failed"))
        uow.commit()
    clock.advance(hours=1)
    assert client.get("/readyz").get_json()["checks"]["outbox"]["pending"] == 0
