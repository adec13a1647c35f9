"""POST /webhooks refuses SSRF targets with a 422 naming `url` and stores nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config import Settings

API = "/api/v1/webhooks"

REFUSED = [
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://localhost:8799/", "loopback-by-name"),
    ("https://10.0.0.1/", "private-10"),
    ("https://172.16.5.4/", "private-172.16"),
    ("https://192.168.1.1/", "private-192.168"),
    ("https://169.254.169.254/latest/meta-data/", "cloud-metadata"),
    ("https://100.64.0.1/", "cgnat"),
    ("https://224.0.0.1/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://255.255.255.255/", "broadcast"),
    ("https://[::1]/", "ipv6-loopback"),
    ("https://[fd00::1]/", "ipv6-unique-local"),
    ("https://[fe80::1]/", "ipv6-link-local"),
    ("https://[::ffff:127.0.0.1]/", "ipv4-mapped"),
    ("https://[::ffff:7f00:1]/", "ipv4-mapped-hex"),
    ("https://[64:ff9b::a9fe:a9fe]/", "nat64-metadata"),
    ("https://2130706433:8799/", "integer-host"),
    ("https://0x7f000001/", "hex-host"),
    ("https://127.1/", "short-host"),
    ("https://0177.0.0.1/", "octal-host"),
    ("http://93.184.215.14/hooks", "plain-http-public"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, webhook_allow_private_networks=False)


@pytest.mark.parametrize("url", [u for u, _ in REFUSED], ids=[i for _, i in REFUSED])
def test_an_ssrf_url_is_a_422_naming_url_and_nothing_is_stored(client, booking, admin, clinic,
                                                               problem, url: str) -> None:
    response = client.post(API, headers=booking,
                           json={"clinic_id": clinic.id, "url": url, "events": ["plan.created"]})
    body = problem(response, 422)
    assert list(body["errors"]) == ["url"]
    listed = client.get(f"{API}?clinic_id={clinic.id}", headers=admin)
    assert listed.status_code == 200 and listed.get_json()["items"] == []


def test_a_public_https_literal_is_accepted_with_private_networks_off(client, booking,
                                                                      clinic) -> None:
    response = client.post(API, headers=booking, json={
        "clinic_id": clinic.id, "url": "https://93.184.215.14/hooks", "events": ["plan.created"]})
    assert response.status_code == 201, response.get_data(as_text=True)
