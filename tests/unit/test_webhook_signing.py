"""Our Standard Webhooks signatures are byte-identical to the reference library's and verify.

The reference `verify` rejects timestamps more than 5 minutes from its own wall clock, so the
verification tests sign at the real current time (no freezegun in unit tests).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from scheduler.webhooks.signing import (
    SECRET_BYTES,
    new_secret,
    secret_key,
    sign,
    signed_headers,
    timestamp_of,
)

Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]
AT = datetime(2026, 11, 2, 17, 30, 12, 987654, tzinfo=UTC)
BODIES = [
    pytest.param(b'{"data":{"plan_id":"pln_1"},"timestamp":"2026-11-02T17:30:00+00:00",'
                 b'"type":"plan.created"}', id="plan-created"),
    pytest.param('{"data":{"note":"Sch\u00f6n \u2014 caf\u00e9"},"type":"x"}'.encode(),
                 id="non-ascii-utf8"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b'{"a":"line\\nbreak"}', id="escaped-newline"),
]


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == SECRET_BYTES
    assert new_secret() != secret


@pytest.mark.parametrize("body", BODIES)
def test_the_signature_is_byte_identical_to_the_reference_library(body: bytes) -> None:
    secret = new_secret()
    ours = sign(secret, msg_id="msg_0123456789abcdef0123", timestamp=timestamp_of(AT), body=body)
    theirs = Webhook(secret).sign("msg_0123456789abcdef0123", AT, body.decode())
    assert ours == theirs
    assert ours.startswith("v1,") and len(base64.b64decode(ours[3:])) == 32


def test_the_timestamp_is_whole_seconds_rounded_down() -> None:
    assert timestamp_of(AT) == 1793640612
    assert signed_headers(new_secret(), msg_id="msg_1", at=AT, body=b"{}")[
        "webhook-timestamp"] == "1793640612"


@pytest.mark.parametrize("body", BODIES)
def test_signed_headers_verify_with_the_reference_library(body: bytes) -> None:
    secret = new_secret()
    headers = signed_headers(secret, msg_id="msg_abc", at=datetime.now(UTC), body=body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    Webhook(secret).verify(body, headers, json_parse=False)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b + b" "), id="body-changed"),
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_other"}, b), id="id-changed"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"])
                                                                  + 1)}, b), id="time-changed"),
    ],
)
def test_a_tampered_message_fails_reference_verification(tamper: Tamper) -> None:
    secret = new_secret()
    body = b'{"type":"plan.created"}'
    signed = signed_headers(secret, msg_id="msg_abc", at=datetime.now(UTC), body=body)
    headers, body = tamper(signed, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_another_secret_fails_reference_verification() -> None:
    body = b"{}"
    headers = signed_headers(new_secret(), msg_id="msg_abc", at=datetime.now(UTC), body=body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_message_signed_an_hour_ago_is_too_old_for_the_reference_library() -> None:
    secret = new_secret()
    headers = signed_headers(secret, msg_id="msg_abc", at=datetime.now(UTC) - timedelta(hours=1),
                             body=b"{}")
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(b"{}", headers)
