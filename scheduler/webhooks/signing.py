"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from datetime import datetime

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of the secret, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def timestamp_of(at: datetime) -> int:
    """Whole seconds since the epoch, rounded down (as the specification's libraries do)."""
    return math.floor(at.timestamp())


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str | Sequence[str], *, msg_id: str, at: datetime,
                   body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for sending `body` at `at`.

    Several secrets (during a rotation) give space-separated signatures, one per secret, which
    the specification allows: a receiver holding either secret verifies the message.
    """
    timestamp = timestamp_of(at)
    keys = [secret] if isinstance(secret, str) else list(secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(key, msg_id=msg_id, timestamp=timestamp, body=body)
                                      for key in keys),
    }
