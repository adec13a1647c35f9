"""POST/GET/PATCH /api/v1/staff (admin): accounts of the web app, never their passwords."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.models import StaffAccount
from tests.api.plan_support import API, ok


def body(clinic_id: str, **overrides):
    return {"email": "Robin@Clinic.example", "name": "Robin Desk", "role": "front_desk",
            "clinic_ids": [clinic_id], **overrides}


def test_an_admin_creates_reads_and_lists_a_staff_user(client, admin, clinic) -> None:
    created = client.post(f"{API}/staff", headers=admin,
                          json=body(clinic.id, password="twelve chars long"))
    user = ok(created, 201)
    assert created.headers["Location"] == f"{API}/staff/{user['id']}"
    assert user == {"id": user["id"], "email": "Robin@Clinic.example", "name": "Robin Desk",
                    "role": "front_desk", "clinic_ids": [clinic.id], "disabled": False}
    assert ok(client.get(f"{API}/staff/{user['id']}", headers=admin)) == user
    assert ok(client.get(f"{API}/staff", headers=admin))["items"] == [user]
    assert "password" not in created.get_data(as_text=True)


def test_the_api_stores_only_an_argon2id_hash(client, admin, clinic, uow_factory) -> None:
    ok(client.post(f"{API}/staff", headers=admin,
                   json=body(clinic.id, password="twelve chars long")), 201)
    with uow_factory() as uow:
        hashes = list(uow.session.scalars(select(StaffAccount.password_hash)))
    assert len(hashes) == 1 and hashes[0].startswith("$argon2id$")
    assert "twelve chars long" not in hashes[0]


def test_bad_fields_are_422_naming_them(client, admin, clinic, problem) -> None:
    answer = client.post(f"{API}/staff", headers=admin, json=body(
        clinic.id, email="not-an-email", role="surgeon", password="short", colour="red"))
    errors = problem(answer, 422)["errors"]
    assert {"role", "password", "colour"} <= set(errors)
    answer = client.post(f"{API}/staff", headers=admin, json=body(clinic.id, email="nope"))
    assert set(problem(answer, 422)["errors"]) == {"email"}
    answer = client.post(f"{API}/staff", headers=admin, json=body("cln_missing"))
    assert set(problem(answer, 422)["errors"]) == {"clinic_ids"}
    assert ok(client.get(f"{API}/staff", headers=admin))["items"] == []


def test_a_second_account_with_the_same_email_in_another_case_is_422(client, admin,
                                                                      clinic, problem) -> None:
    ok(client.post(f"{API}/staff", headers=admin, json=body(clinic.id)), 201)
    again = client.post(f"{API}/staff", headers=admin,
                        json=body(clinic.id, email="robin@CLINIC.EXAMPLE"))
    assert set(problem(again, 422)["errors"]) == {"email"}


def test_patch_changes_role_clinics_and_disables(client, admin, clinic, other_clinic) -> None:
    user = ok(client.post(f"{API}/staff", headers=admin, json=body(clinic.id)), 201)
    changed = ok(client.patch(f"{API}/staff/{user['id']}", headers=admin, json={
        "role": "physiotherapist", "clinic_ids": [clinic.id, other_clinic.id],
        "disabled": True}))
    assert changed["role"] == "physiotherapist" and changed["disabled"] is True
    assert sorted(changed["clinic_ids"]) == sorted([clinic.id, other_clinic.id])
    back = ok(client.patch(f"{API}/staff/{user['id']}", headers=admin, json={"disabled": False}))
    assert back["disabled"] is False


def test_patch_of_an_unknown_user_is_404(client, admin, problem) -> None:
    problem(client.patch(f"{API}/staff/stf_{'0' * 20}", headers=admin, json={"name": "x"}), 404)
    problem(client.get(f"{API}/staff/stf_{'0' * 20}", headers=admin), 404)


def test_only_admins_may_use_the_staff_api(client, booking, physio, front_desk, clinic,
                                           problem) -> None:
    for headers in (booking, physio, front_desk):
        problem(client.get(f"{API}/staff", headers=headers), 403)
        problem(client.post(f"{API}/staff", headers=headers, json=body(clinic.id)), 403)
    problem(client.get(f"{API}/staff"), 401)
