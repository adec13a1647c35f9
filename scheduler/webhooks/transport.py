"""The HTTP sender: explicit timeouts, no redirects, no proxies, http and https only."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 5.0  # seconds to open the connection (and finish TLS)
READ_TIMEOUT = 10.0  # seconds any single read of the response may wait
MAX_URL = 2048
SCHEMES = frozenset({"http", "https"})
USER_AGENT = "ims-cadence-webhooks/1"

# send(url, headers, body) -> HTTP status code; raises OSError / HTTPException on failure
Sender = Callable[[str, Mapping[str, str], bytes], int]


def url_problem(url: str) -> str | None:
    """Why `url` cannot receive webhooks, or None when it can."""
    if len(url) > MAX_URL:
        return f"Must be at most {MAX_URL} characters."
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return "Not a valid URL."
    if parts.scheme.lower() not in SCHEMES:
        return "Must be an http or https URL."
    if not parts.hostname:
        return "Must name a host."
    if parts.username is not None or parts.password is not None:
        return "Must not contain credentials."
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "Must not contain whitespace or control characters."
    return None


def http_send(url: str, headers: Mapping[str, str], body: bytes, *,
              connect_timeout: float = CONNECT_TIMEOUT,
              read_timeout: float = READ_TIMEOUT) -> int:
    """POST `body` to `url` once; the response's status code (a 3xx is returned, not followed).

    http.client never follows redirects nor reads proxy settings from the environment.
    """
    problem = url_problem(url)
    if problem is not None:
        raise ValueError(f"refusing to send to {url!r}: {problem}")
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme.lower() == "https":
        connection = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                                 timeout=connect_timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                                timeout=connect_timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(read_timeout)
        connection.request("POST", target, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT})
        response = connection.getresponse()
        return response.status  # the body is never read: nothing of it is stored
    finally:
        connection.close()
