"""ETags from version numbers: If-None-Match (304) on reads, If-Match (428/412) on writes.

A tag is `"<version>"`, or `"<version>-<date>"` for resources whose representation also
changes with the clinic's date (a plan's window goes due -> overdue without a write).
If-Match compares the version only, so a plan tag fetched yesterday still works if nobody
changed the plan since.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Response, request

from api.problems import ApiProblem

_TAG = re.compile(r"^(\d+)(?:-\d{4}-\d{2}-\d{2})?$")


def _opaque(version: int, on: date | None) -> str:
    return f"{version}-{on.isoformat()}" if on is not None else str(version)


def etag(version: int, on: date | None = None) -> str:
    """The quoted strong ETag of a resource version (and date)."""
    return f'"{_opaque(version, on)}"'


def not_modified(version: int, on: date | None = None) -> Response | None:
    """A 304 when the client's If-None-Match already holds this version (and date)."""
    if request.if_none_match and request.if_none_match.contains_weak(_opaque(version, on)):
        return Response(status=304, headers={"ETag": etag(version, on)})
    return None


def expected_version() -> int | None:
    """The version named by If-Match (None for `*`); 428 when the header is missing."""
    if "If-Match" not in request.headers:
        raise ApiProblem(428, "This request needs an If-Match header with the resource's ETag.",
                         slug="precondition-required")
    condition = request.if_match
    if condition.star_tag:
        return None
    for tag in sorted(condition.as_set()):
        match = _TAG.match(tag)
        if match:
            return int(match.group(1))  # several tags: the first we issued decides
    raise ApiProblem(412, "If-Match does not name a current version of this resource.",
                     slug="precondition-failed")
