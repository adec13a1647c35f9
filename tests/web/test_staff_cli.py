"""`flask --app wsgi staff create | set-password | disable | list`."""

from __future__ import annotations

import pytest
from flask import Flask

from scheduler.services import staff as staff_service
from tests.web.conftest import PASSWORD, sign_in


@pytest.fixture
def runner(web_app: Flask):
    return web_app.test_cli_runner()


def create(runner, clinic_id: str, password: str = PASSWORD, *extra: str):
    return runner.invoke(args=["staff", "create", "--email", "Robin@Clinic.example", "--name",
                               "Robin Desk", "--role", "front_desk", "--clinic", clinic_id,
                               *extra], input=f"{password}\n")


def test_create_reads_the_password_from_stdin_and_prints_the_id_last(
        runner, web_client, clinic, uow_factory) -> None:
    result = create(runner, clinic.id)
    assert result.exit_code == 0, result.output
    staff_id = result.output.strip().splitlines()[-1]
    assert staff_id.startswith("stf_") and PASSWORD not in result.output
    user = staff_service.get_staff(uow_factory(), staff_id)
    assert (user.email, user.role, user.clinic_ids) == ("Robin@Clinic.example", "front_desk",
                                                        (clinic.id,))
    assert sign_in(web_client, "robin@clinic.example").status_code == 303


def test_create_takes_several_clinics(runner, clinic, make_clinic_id, uow_factory) -> None:
    result = create(runner, clinic.id, PASSWORD, "--clinic", make_clinic_id)
    staff_id = result.output.strip().splitlines()[-1]
    assert set(staff_service.get_staff(uow_factory(), staff_id).clinic_ids) == {
        clinic.id, make_clinic_id}


def test_create_refuses_a_short_password_and_creates_nothing(runner, clinic,
                                                             uow_factory) -> None:
    result = create(runner, clinic.id, "short")
    assert result.exit_code != 0 and "password" in result.output
    assert staff_service.list_staff(uow_factory()).items == ()


def test_set_password_and_disable(runner, web_client, clinic) -> None:
    staff_id = create(runner, clinic.id).output.strip().splitlines()[-1]
    changed = runner.invoke(args=["staff", "set-password", staff_id],
                            input="another long passphrase\n")
    assert changed.exit_code == 0, changed.output
    assert sign_in(web_client, "robin@clinic.example").status_code == 401
    assert sign_in(web_client, "robin@clinic.example",
                   "another long passphrase").status_code == 303
    listed = runner.invoke(args=["staff", "list"])
    assert staff_id in listed.output and "active" in listed.output
    disabled = runner.invoke(args=["staff", "disable", staff_id])
    assert disabled.exit_code == 0, disabled.output
    assert web_client.get("/app/").status_code == 303  # the session ended
    assert web_client.get("/app/").headers["Location"].startswith("/app/login")
    assert sign_in(web_client, "robin@clinic.example",
                   "another long passphrase").status_code == 401


def test_unknown_ids_are_refused(runner) -> None:
    assert runner.invoke(args=["staff", "disable", "stf_nope"]).exit_code != 0
    assert runner.invoke(args=["staff", "set-password", "stf_nope"],
                         input=f"{PASSWORD}\n").exit_code != 0
