"""No patient data in the logs from the staff pages: sentinel strings go through every field of
every page and form (names, ids, notes, reasons, the search box, refused values) and no line
the process writes at DEBUG contains one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask.testing import FlaskClient

from config import Settings
from scheduler.services import patients
from scheduler.services.clinics import ClinicView
from scheduler.services.staff import StaffUser
from tests import builders
from tests.builders import UowFactory
from tests.conftest import CapturedLogs
from tests.web.page_support import form_with_button, signed_in_as, submit, text

MARK = "PHI-SENTINEL"


def s(field: str) -> str:
    return f"{MARK}-{field}-9C1D"


@pytest.fixture
def web_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, testing=True, log_level="DEBUG",
                    web_plain_http=True)


def test_no_sentinel_from_the_staff_pages_reaches_any_log_line(
        web_client: FlaskClient, clinic: ClinicView, make_staff: Callable[..., StaffUser],
        uow_factory: UowFactory, now: datetime, json_logs: CapturedLogs) -> None:
    patient = patients.create_patient(uow_factory(), clinic_id=clinic.id,
                                      external_id=s("external_id"),
                                      display_name=s("display_name"), actor=builders.ACTOR,
                                      now=now)
    plan_id = builders.plan(uow_factory, now, patient_id=patient.id).id
    page = f"/app/plans/{plan_id}"
    signed_in_as(web_client, make_staff, "physiotherapist", clinic.id)

    assert s("display_name") in text(web_client.get(f"/app/clinics/{clinic.id}/followups"))
    assert s("external_id") in text(web_client.get(f"/app/patients?q={s('external_id')}"))
    assert web_client.get(f"/app/patients?q={s('q')}").status_code == 200
    assert web_client.get(f"/app/clinics/{clinic.id}/followups?on={s('on')}").status_code == 400
    assert web_client.get(page).status_code == 200
    assert submit(web_client, page, "Save contact", note=s("note"), outcome="reached",
                  channel="phone").status_code == 303
    assert submit(web_client, page, "Save contact", note=s("note") * 200,
                  outcome="reached", channel="phone").status_code == 422
    assert submit(web_client, page, "Record report", pain="4", notes=s("notes"),
                  adverse_event="yes", adverse_event_note=s("adverse")).status_code == 303
    assert submit(web_client, page, "Record report", pain=s("pain")).status_code == 422
    assert submit(web_client, page, "Set phase", reason=s("reason"),
                  phase=s("phase")).status_code == 422
    assert submit(web_client, page, "Hold", reason=s("reason")).status_code == 303
    assert submit(web_client, page, "Override frequency", reason=s("reason"), frequency="1",
                  period="1", until=s("until")).status_code == 422
    assert submit(web_client, page, "Discharge", reason=s("reason")).status_code == 200
    stale = form_with_button(text(web_client.get(page)), "Resume")
    submit(web_client, page, "Resume", reason=s("reason"))
    assert web_client.post(stale.action, data={**stale.fields,
                                               "reason": s("stale")}).status_code == 409
    assert web_client.get(f"/app/plans/{s('plan_path')}").status_code == 404

    lines = json_logs.text()
    assert json_logs.events("request"), "the access lines were captured"
    assert MARK not in lines, [line for line in lines.splitlines() if MARK in line][:3]
