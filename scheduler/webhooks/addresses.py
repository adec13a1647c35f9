"""Webhook URL vetting against SSRF: https to public addresses only, resolved and pinned.

A URL is vetted when it is subscribed and again before every attempt (the name may have been
re-pointed since: DNS rebinding); the attempt then connects to the address vetted, not to a
fresh resolution of the name. `allow_private` (WEBHOOK_ALLOW_PRIVATE_NETWORKS, development and
tests) admits plain http and non-public addresses; numeric hosts that only some parsers read
as an address (`2130706433`, `0x7f000001`, `127.1`, `0177.0.0.1`) are refused either way.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# resolve(host, port) -> the addresses the name has (as strings); raises OSError if none
Resolver = Callable[[str, int], Sequence[str]]

# 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) carry an IPv4 address that decides where it goes.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_LABELS = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)


class Refused(ValueError):
    """The URL may not receive webhooks; the message says why (shown to the subscriber)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A vetted URL: where to connect (`address`), and what to say (`host`, for Host and SNI)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives `host` for a TCP connection."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def why_not_public(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return why_not_public(embedded)
    for test, name in ((address.is_loopback, "loopback"), (address.is_link_local, "link-local"),
                       (address.is_multicast, "multicast"), (address.is_unspecified,
                                                             "unspecified"),
                       (address.is_reserved, "reserved"), (address.is_private, "private")):
        if test:
            return name
    if not address.is_global:  # CGNAT 100.64/10 and the remaining special-purpose blocks
        return "not public"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _ambiguous_number(host: str) -> bool:
    """Hosts such as 2130706433, 0x7f000001, 127.1 or 0177.0.0.1: not a dotted quad, yet
    inet_aton (and so some resolvers and HTTP clients) reads them as an IPv4 address."""
    if _literal(host) is not None or not _NUMERIC_LABELS.fullmatch(host):
        return False
    labels = host.rstrip(".").split(".")
    return all(re.fullmatch(r"0x[0-9a-f]*|[0-9]+", label, re.IGNORECASE) for label in labels)


def _split(url: str, allow_private: bool) -> SplitResult:
    if len(url) > MAX_URL:
        raise Refused(f"Must be at most {MAX_URL} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise Refused("Must not contain whitespace or control characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise Refused("Not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("Must be an https URL." if not allow_private
                      else "Must be an http or https URL.")
    if scheme == "http" and not allow_private:
        raise Refused("Must be an https URL (plain http only with "
                      "WEBHOOK_ALLOW_PRIVATE_NETWORKS).")
    if not parts.hostname:
        raise Refused("Must name a host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Must not contain credentials.")
    if _ambiguous_number(parts.hostname):
        raise Refused("A numeric host must be a full dotted-quad or bracketed IPv6 address.")
    return parts


def url_problem(url: str, *, allow_private: bool = False) -> str | None:
    """Why `url` cannot be a webhook URL by its form alone (no resolution), or None."""
    try:
        _split(url, allow_private)
    except Refused as refused:
        return str(refused)
    return None


def vet(url: str, *, allow_private: bool, resolve: Resolver = system_resolve) -> Target:
    """Check `url` and resolve its host; the Target names one vetted address. Raises Refused.

    Every address the name resolves to must be public (one private answer among public ones
    is how rebinding attacks hedge). With `allow_private` the name is not resolved here.
    """
    parts = _split(url, allow_private)
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        addresses = [str(literal)]
    elif allow_private:  # nothing to vet: the connection resolves the name itself
        addresses = [host]
    else:
        try:
            addresses = list(resolve(host, port))
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise Refused("The host name does not resolve.")
    if not allow_private:
        for address in addresses:
            reason = why_not_public(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                raise Refused(f"Must resolve to public addresses only ({host} is {reason}).")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)
