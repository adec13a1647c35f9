"""flask-smorest Api configured for OpenAPI 3.1, bearer auth and problem+json errors."""

from __future__ import annotations

import http
from typing import Any

from flask import Flask, Response, current_app, json
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from api import openapi_extras
from api.problems import PROBLEM_JSON
from api.schemas import ProblemSchema

SPEC_CONFIG: dict[str, Any] = {
    "API_TITLE": "IMS Cadence",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    # Swagger UI from the files vendored in api/static/swagger-ui (npm swagger-ui-dist,
    # licence kept beside them): the docs work with no internet.
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/",
    "API_SPEC_OPTIONS": {
        "security": [{"bearerAuth": []}],
        "info": {
            "description": "Treatment-frequency scheduling for IMS / dry needling. "
            "Errors are RFC 9457 application/problem+json.",
        },
    },
}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Same key and body within 24 h: the first response is replayed with "
    "`Idempotent-Replayed: true`; same key, other body: 422; still in flight: 409. A bare "
    "token or an RFC 8941 string (`\"abc\"` is the key `abc`). The change and its stored "
    "response commit together: after a 5xx, a 503 or a lost connection the same key either "
    "replays the answer or runs the request for the first time, never twice.",
}
X_ACTOR = {
    "name": "X-Actor", "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "The person behind the call (e.g. `physio:1234`), kept in the audit trail.",
}


# 503: the database is unavailable (type ...:database-unavailable, with Retry-After)
ALWAYS = (http.HTTPStatus.UNAUTHORIZED, http.HTTPStatus.TOO_MANY_REQUESTS,
          http.HTTPStatus.SERVICE_UNAVAILABLE)
WITH_BODY = (http.HTTPStatus.BAD_REQUEST, http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
             http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


class CadenceApi(Api):
    """Api whose documented error responses are problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask) -> None:
        for key, value in SPEC_CONFIG.items():
            app.config.setdefault(key, value)
        self._finished: dict[str, Any] | None = None
        super().__init__(app)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer"}
        )
        self.spec.components.parameter("IdempotencyKey", "header", IDEMPOTENCY_KEY)
        self.spec.components.parameter("XActor", "header", X_ACTOR)

    def openapi_dict(self) -> dict[str, Any]:
        """The served document: flask-smorest's, finished by `openapi_extras` (built once:
        every blueprint is registered before the first request)."""
        if self._finished is None:
            self._finished = openapi_extras.finish(self.spec.to_dict())
        return self._finished

    def _openapi_json(self) -> Response:
        return current_app.response_class(json.dumps(self.openapi_dict(), sort_keys=False),
                                          mimetype="application/json")

    def register_blueprint(self, blp: Any, **options: Any) -> None:
        """Register, then document the headers every operation of ours honours and the
        answers any of them may give (401, 429; with a body also 400, 413 and 415)."""
        super().register_blueprint(blp, **options)
        self._finished = None
        for path, operations in self.spec._paths.items():  # apispec keeps no public iterator
            if not path.startswith("/api/v1"):
                continue
            for method, operation in operations.items():
                if method not in ("get", "post", "patch", "put", "delete"):
                    continue
                refs = operation.setdefault("parameters", [])
                wanted = ["XActor"] + (["IdempotencyKey"] if method == "post" else [])
                for name in wanted:
                    ref = {"$ref": f"#/components/parameters/{name}"}
                    if ref not in refs:
                        refs.append(ref)
                responses = operation.setdefault("responses", {})
                statuses = ALWAYS + (WITH_BODY if method in ("post", "patch", "put") else ())
                for status in statuses:
                    if str(status.value) not in responses:
                        responses[str(status.value)] = self.spec.components.get_ref(
                            "response", status.name)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not 100 <= status < 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)
