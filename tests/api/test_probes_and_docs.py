"""/healthz, /readyz, /openapi.json (OpenAPI 3.1) and /docs."""

from __future__ import annotations

from api import create_app
from config import Settings
from scheduler import migrate as schema


def test_healthz_is_up(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(client) -> None:
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_on_an_unmigrated_database(tmp_path, problem) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}", testing=True))
    try:
        body = problem(app.test_client().get("/readyz"), 503, ("checks",))
    finally:
        app.extensions["cadence"].engine.dispose()
    assert str(schema.head_revision()) in body["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"] == {"ok": False, "current": None,
                                            "head": schema.head_revision()}


def test_readyz_is_503_when_the_database_is_unreachable(problem) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(Settings(database_url=url, testing=True))
    body = problem(app.test_client().get("/readyz"), 503, ("checks",))
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_the_openapi_document_is_3_1_with_bearer_auth_and_problem_errors(client) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    for path in ("/api/v1/clinics", "/api/v1/clinics/{clinic_id}", "/api/v1/api-keys",
                 "/api/v1/api-keys/{key_id}", "/api/v1/patients", "/api/v1/patients/{patient_id}"):
        assert path in spec["paths"], path
    unprocessable = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert "application/problem+json" in unprocessable["content"]
    assert "Problem" in spec["components"]["schemas"]


def test_docs_page_is_served(client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and b"swagger-ui" in response.data
