"""The HTTP sender: explicit timeouts, no redirects, no proxies, to the vetted address only."""

from __future__ import annotations

import email.utils
import http.client
import socket
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple

from scheduler.webhooks.addresses import Target

CONNECT_TIMEOUT = 5.0  # seconds to open the connection (and finish TLS)
READ_TIMEOUT = 10.0  # seconds any single read of the response may wait
USER_AGENT = "ims-cadence-webhooks/1"


class Sent(NamedTuple):
    """A receiver's answer: its status and, if it sent one, its Retry-After in seconds."""

    status: int
    retry_after: float | None = None


# send(target, headers, body) -> Sent (or a bare status code); raises OSError / HTTPException
Sender = Callable[[Target, Mapping[str, str], bytes], "Sent | int"]


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to `address`; the Host header still names the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Connects to `address`; TLS verifies the certificate for, and sends SNI of, the host."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def http_send(target: Target, headers: Mapping[str, str], body: bytes, *,
              connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
              context: ssl.SSLContext | None = None) -> Sent:
    """POST `body` to the vetted target once; the status (a 3xx is returned, not followed)
    and Retry-After. http.client never follows redirects nor reads proxy settings."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(target, connect_timeout,
                                  context or ssl.create_default_context())
    else:
        connection = _PinnedHTTP(target, connect_timeout)
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        connection.request("POST", target.path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT})
        response = connection.getresponse()
        # the body is never read: nothing of it is stored
        return Sent(response.status, retry_after_seconds(response.getheader("Retry-After")))
    finally:
        connection.close()
