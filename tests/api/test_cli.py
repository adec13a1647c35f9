"""`flask db upgrade` and `flask apikey create`."""

from __future__ import annotations

from scheduler import migrate as schema


def test_db_upgrade_is_idempotent_on_a_migrated_database(runner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    head = schema.head_revision()
    assert f"database at {head}" in result.output
    current = runner.invoke(args=["db", "current"])
    assert current.output.strip() == f"current={head} head={head}"


def test_apikey_create_prints_a_working_admin_key_last(runner, client) -> None:
    result = runner.invoke(args=["apikey", "create", "--name", "ops", "--role", "admin"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("ims_")
    response = client.get("/api/v1/clinics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_apikey_create_scopes_a_clinic_key(runner, client, clinic, other_clinic) -> None:
    result = runner.invoke(args=["apikey", "create", "--name", "desk", "--role", "front_desk",
                                 "--clinic", clinic.id])
    key = result.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/clinics/{clinic.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/clinics/{other_clinic.id}", headers=headers).status_code == 404


def test_apikey_create_refuses_a_clinic_role_without_a_clinic(runner) -> None:
    result = runner.invoke(args=["apikey", "create", "--name", "x", "--role", "front_desk"])
    assert result.exit_code != 0 and "clinic_ids" in result.output


def test_apikey_create_refuses_an_unknown_role(runner) -> None:
    result = runner.invoke(args=["apikey", "create", "--name", "x", "--role", "root"])
    assert result.exit_code != 0


def test_apikey_create_issues_a_monitoring_key_that_reads_metrics_only(runner, client) -> None:
    result = runner.invoke(args=["apikey", "create", "--name", "prom", "--role", "monitoring"])
    assert result.exit_code == 0, result.output
    first, key = result.output.strip().splitlines()[-2:]
    assert first.endswith("role=monitoring clinics=none")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/metrics", headers=headers).status_code == 200
    assert client.get("/api/v1/clinics", headers=headers).status_code == 403
