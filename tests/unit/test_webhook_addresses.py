"""SSRF vetting of webhook URLs: refused addresses, accepted public ones, http only when allowed."""

from __future__ import annotations

import pytest

from scheduler.webhooks.addresses import Refused, url_problem, vet


def resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]
    return resolve


NAMES = resolver({
    "localhost": ["127.0.0.1"],
    "internal.example.com": ["10.0.0.5"],
    "hedged.example.com": ["93.184.215.14", "192.168.1.10"],
    "metadata.example.com": ["169.254.169.254"],
    "v6local.example.com": ["::1"],
    "hooks.example.com": ["93.184.215.14"],
    "hooks6.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
})

REFUSED = [
    ("https://127.0.0.1/", "loopback"),
    ("https://127.255.255.254:8443/x", "loopback-top"),
    ("https://localhost/", "loopback-by-name"),
    ("https://10.0.0.1/", "private-10"),
    ("https://10.255.255.255/", "private-10-top"),
    ("https://172.16.0.1/", "private-172.16"),
    ("https://172.31.255.254/", "private-172.31"),
    ("https://192.168.0.1/", "private-192.168"),
    ("https://internal.example.com/", "private-by-name"),
    ("https://hedged.example.com/", "one-private-answer-among-public"),
    ("https://169.254.169.254/latest/meta-data/", "link-local-metadata"),
    ("https://metadata.example.com/", "link-local-by-name"),
    ("https://100.64.0.1/", "cgnat-bottom"),
    ("https://100.127.255.254/", "cgnat-top"),
    ("https://224.0.0.1/", "multicast"),
    ("https://239.255.255.250/", "multicast-ssdp"),
    ("https://240.0.0.1/", "reserved-class-e"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://255.255.255.255/", "broadcast"),
    ("https://192.0.2.10/", "documentation-test-net"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://[::1]/", "ipv6-loopback"),
    ("https://v6local.example.com/", "ipv6-loopback-by-name"),
    ("https://[::]/", "ipv6-unspecified"),
    ("https://[fc00::1]/", "ipv6-unique-local-fc"),
    ("https://[fd12:3456:789a::1]/", "ipv6-unique-local-fd"),
    ("https://[fe80::1]/", "ipv6-link-local"),
    ("https://[ff02::1]/", "ipv6-multicast"),
    ("https://[::ffff:127.0.0.1]/", "ipv4-mapped-dotted"),
    ("https://[::ffff:7f00:1]/", "ipv4-mapped-hex"),
    ("https://[::ffff:a9fe:a9fe]/", "ipv4-mapped-metadata"),
    ("https://[::ffff:10.0.0.1]/", "ipv4-mapped-private"),
    ("https://[2002:7f00:1::]/", "6to4-of-loopback"),
    ("https://[2002:a00:1::]/", "6to4-of-private"),
    ("https://[64:ff9b::7f00:1]/", "nat64-of-loopback"),
    ("https://[64:ff9b::a9fe:a9fe]/", "nat64-of-metadata"),
    ("https://2130706433/", "integer-host"),
    ("https://0x7f000001/", "hex-host"),
    ("https://127.1/", "short-host"),
    ("https://0177.0.0.1/", "octal-host"),
    ("https://0x7f.0.0.1/", "hex-label-host"),
    ("https://10.1/", "short-private-host"),
    ("https://nowhere.invalid/", "does-not-resolve"),
]


@pytest.mark.parametrize("url", [u for u, _ in REFUSED], ids=[i for _, i in REFUSED])
def test_an_ssrf_address_is_refused(url: str) -> None:
    with pytest.raises(Refused):
        vet(url, allow_private=False, resolve=NAMES)


@pytest.mark.parametrize("url", ["https://2130706433/", "http://0x7f000001:8080/",
                                 "http://127.1/", "http://0177.0.0.1/"],
                         ids=["integer", "hex", "short", "octal"])
def test_an_ambiguous_numeric_host_is_refused_even_when_private_networks_are_allowed(
        url: str) -> None:
    with pytest.raises(Refused, match="dotted-quad"):
        vet(url, allow_private=True, resolve=NAMES)
    assert url_problem(url, allow_private=True) is not None


ACCEPTED = [
    ("https://93.184.215.14/hook", "93.184.215.14", 443, "/hook", "public-ipv4-literal"),
    ("https://hooks.example.com:8443/in?x=1", "93.184.215.14", 8443, "/in?x=1",
     "public-by-name"),
    ("https://[2606:4700:4700::1111]/", "2606:4700:4700::1111", 443, "/",
     "public-ipv6-literal"),
    ("https://hooks6.example.com", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", 443, "/",
     "public-ipv6-by-name"),
    ("https://8.8.8.8/", "8.8.8.8", 443, "/", "public-dns-resolver"),
    ("https://172.32.0.1/", "172.32.0.1", 443, "/", "just-above-172.16/12"),
    ("https://100.128.0.1/", "100.128.0.1", 443, "/", "just-above-cgnat"),
]


@pytest.mark.parametrize(("url", "address", "port", "path"),
                         [a[:4] for a in ACCEPTED], ids=[a[4] for a in ACCEPTED])
def test_a_public_address_is_accepted_and_pinned(url: str, address: str, port: int,
                                                 path: str) -> None:
    target = vet(url, allow_private=False, resolve=NAMES)
    assert (target.address, target.port, target.path, target.scheme) == (
        address, port, path, "https")


def test_plain_http_is_refused_by_default_even_to_a_public_address() -> None:
    with pytest.raises(Refused, match="https"):
        vet("http://93.184.215.14/hook", allow_private=False, resolve=NAMES)
    assert url_problem("http://hooks.example.com/") is not None


def test_plain_http_and_private_addresses_are_allowed_with_private_networks() -> None:
    target = vet("http://127.0.0.1:8799/hook", allow_private=True, resolve=NAMES)
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 8799)
    assert url_problem("http://10.0.0.1/", allow_private=True) is None


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/", "file:///etc/passwd",
                                 "gopher://93.184.215.14/", "https://user:pw@hooks.example.com/",
                                 "https:///nohost", "https://hooks.example.com:99999/",
                                 "https://hooks.example.com/\nx"],
                         ids=["ftp", "file", "gopher", "credentials", "no-host", "bad-port",
                              "control-character"])
def test_a_malformed_or_non_http_url_is_refused(url: str) -> None:
    with pytest.raises(Refused):
        vet(url, allow_private=True, resolve=NAMES)
