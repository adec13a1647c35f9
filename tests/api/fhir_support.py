"""Validate a FHIR bundle with fhir.resources (R4B structure definitions), for the tests only."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle


def validated(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate the bundle and each entry's resource by its own type; every reference must
    name an entry's fullUrl. Returns the resources by type (the last of each type)."""
    Bundle.model_validate(bundle)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    by_type: dict[str, dict[str, Any]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        for reference in _references(resource):
            assert reference in full_urls, reference
        by_type[resource["resourceType"]] = resource
    return by_type


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []
