"""Limits (issue #11, OWASP API4): bodies over MAX_BODY_BYTES are a 413, a key over
RATE_LIMIT a 429 with Retry-After, and an address over AUTH_FAILURE_LIMIT failed
authentications a 429 too; all problem+json."""

from __future__ import annotations

import dataclasses
import io
import json
import time

import pytest

from api import create_app

CT = "application/json"


@pytest.fixture
def limited(settings, engine, clock):
    """make(**settings overrides) -> a test client of an app with those settings."""
    apps = []

    def make(**overrides):
        app = create_app(dataclasses.replace(settings, **overrides), clock=clock)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["cadence"].engine.dispose()


def big_body(size: int) -> bytes:
    padding = size - len(b'{"clinic_id": "x", "external_id": ""}')
    return json.dumps({"clinic_id": "x", "external_id": "a" * padding}).encode()


def test_a_body_over_one_mebibyte_is_413_before_authentication(client, booking, problem):
    body = big_body(1024 * 1024 + 1)
    assert len(body) == 1024 * 1024 + 1
    answer = problem(client.post("/api/v1/patients", data=body, content_type=CT), 413)
    assert answer["type"].endswith(":body-too-large")
    problem(client.post("/api/v1/patients", headers=booking, data=body, content_type=CT), 413)


def test_a_body_of_exactly_the_limit_is_read(client, booking, clinic, problem):
    body = big_body(1024 * 1024)
    answer = problem(client.post("/api/v1/patients", headers=booking, data=body,
                                 content_type=CT), 422)  # external_id too long: it was read
    assert list(answer["errors"]) == ["external_id"]


def test_a_body_without_a_length_is_cut_off_at_the_limit(limited, make_headers, clinic,
                                                         problem):
    client = limited(max_body_bytes=4096)
    headers = make_headers("booking_system", clinic.id)
    response = client.post("/api/v1/patients", headers={**headers, "Content-Type": CT,
                                                        "Transfer-Encoding": "chunked"},
                           input_stream=io.BytesIO(big_body(10_000)),
                           environ_overrides={"wsgi.input_terminated": True})
    problem(response, 413)
    small = json.dumps({"clinic_id": clinic.id, "external_id": "MRN-1"}).encode()
    response = client.post("/api/v1/patients", headers={**headers, "Content-Type": CT,
                                                        "Transfer-Encoding": "chunked"},
                           input_stream=io.BytesIO(small),
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 201, response.get_data(as_text=True)


def test_max_body_bytes_is_a_setting(limited, make_headers, clinic, problem):
    client = limited(max_body_bytes=2048)
    headers = make_headers("booking_system", clinic.id)
    problem(client.post("/api/v1/patients", headers=headers, data=big_body(2049),
                        content_type=CT), 413)


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(limited, make_headers, clinic,
                                                             problem):
    client = limited(rate_limit="5/minute")
    first, second = (make_headers("booking_system", clinic.id) for _ in range(2))
    for _ in range(5):
        assert client.get("/api/v1/clinics", headers=first).status_code == 200
    response = client.get(f"/api/v1/clinics/{clinic.id}", headers=first)  # any route counts
    body = problem(response, 429)
    assert body["type"].endswith(":rate-limited") and "5 per 1 minute" in body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window's end, rounded up
    assert client.get("/api/v1/clinics", headers=second).status_code == 200  # per key
    assert client.get("/healthz").status_code == 200  # probes are not limited


def test_the_default_rate_limit_is_1200_a_minute(client, booking):
    app = client.application
    limits = app.extensions["cadence_limits"]
    assert [str(item) for item in limits.per_key] == ["1200 per 1 minute"]
    # flask-limiter's own per-request hooks (46-68 us a request) are not installed
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None],
             *app.teardown_request_funcs[None]]
    assert not [fn for fn in hooks if "flask_limiter" in repr(fn)
                or getattr(getattr(fn, "__self__", None), "__module__", "").startswith(
                    "flask_limiter")]
    for _ in range(30):
        assert client.get("/api/v1/clinics", headers=booking).status_code == 200


def test_failed_authentication_is_limited_per_address(limited, make_headers, problem):
    client = limited(auth_failure_limit="3/minute")
    good = make_headers("admin")
    bad = {"Authorization": "Bearer ims_000000000000_guess"}
    for _ in range(3):
        problem(client.get("/api/v1/clinics", headers=bad), 401)
    response = client.get("/api/v1/clinics", headers=bad)
    problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    # the address is refused even with a right key: a guesser cannot tell which one it is
    problem(client.get("/api/v1/clinics", headers=good), 429)
    other = {"REMOTE_ADDR": "127.0.0.2"}
    assert client.get("/api/v1/clinics", headers=good,
                      environ_overrides=other).status_code == 200
    problem(client.get("/api/v1/clinics", environ_overrides=other), 401)  # no key: a failure


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(limited, make_headers, problem):
    client = limited(auth_failure_limit="2/minute", trusted_proxies=1)
    good = make_headers("admin")
    bad = {"Authorization": "Bearer ims_000000000000_guess"}
    for _ in range(2):
        problem(client.get("/api/v1/clinics", headers={**bad, "X-Forwarded-For": "10.0.0.1"}),
                401)
    problem(client.get("/api/v1/clinics", headers={**good, "X-Forwarded-For": "10.0.0.1"}), 429)
    assert client.get("/api/v1/clinics", headers={
        **good, "X-Forwarded-For": "10.0.0.2"}).status_code == 200


def test_without_trusted_proxies_x_forwarded_for_is_ignored(limited, make_headers, problem):
    client = limited(auth_failure_limit="2/minute")
    bad = {"Authorization": "Bearer ims_000000000000_guess"}
    for n in range(2):
        problem(client.get("/api/v1/clinics", headers={**bad, "X-Forwarded-For": f"10.0.0.{n}"}),
                401)
    problem(client.get("/api/v1/clinics", headers={**bad, "X-Forwarded-For": "10.0.0.9"}), 429)


def test_a_failing_limit_store_lets_requests_through(limited, make_headers, monkeypatch):
    client = limited(rate_limit="1/minute")
    headers = make_headers("admin")
    strategy = client.application.extensions["cadence_limits"].limiter.limiter

    def down(*_args, **_kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(strategy, "hit", down)
    for _ in range(3):
        assert client.get("/api/v1/clinics", headers=headers).status_code == 200


def test_the_default_in_memory_store_starts_no_thread_per_request(client, booking):
    """limits' MemoryStorage re-arms a timer thread every few increments under load (the
    cause of a 4x slower API benchmark); the store behind memory:// must not."""
    import threading

    from api.security import InProcessStorage

    storage = client.application.extensions["cadence_limits"].limiter.storage
    assert isinstance(storage, InProcessStorage)
    started = []
    original = threading.Thread.start

    def counting(self):
        started.append(self)
        return original(self)

    threading.Thread.start = counting  # type: ignore[method-assign]
    try:
        for _ in range(50):
            assert client.get("/api/v1/clinics", headers=booking).status_code == 200
            time.sleep(0.002)
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    assert started == []


def test_expired_counters_are_swept(monkeypatch):
    from api.security import InProcessStorage

    storage = InProcessStorage()
    storage.incr("a", 1)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 5)
    storage.incr("b", 60)
    assert "a" not in storage.storage and storage.get("b") == 1
