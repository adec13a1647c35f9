"""Plan ETags: `"<version>-<clinic-local date>"`, because a plan's window state changes with
the date (due -> overdue) even when nothing was written. If-Match compares the version only,
so a tag fetched yesterday still works if nobody changed the plan since."""

from __future__ import annotations

import re

from flask import Response, request

from api.problems import ApiProblem

_TAG = re.compile(r"^(\d+)(?:-\d{4}-\d{2}-\d{2})?$")


def plan_etag(version: int, today: object) -> str:
    return f'"{version}-{today}"'


def not_modified(version: int, today: object) -> Response | None:
    tag = f"{version}-{today}"
    if request.if_none_match and request.if_none_match.contains_weak(tag):
        return Response(status=304, headers={"ETag": f'"{tag}"'})
    return None


def expected_version() -> int | None:
    """The plan version named by If-Match (None for `*`): 428 when missing, 412 when unusable."""
    if "If-Match" not in request.headers:
        raise ApiProblem(428, "Plan changes need an If-Match header with the plan's ETag.",
                         slug="precondition-required")
    condition = request.if_match
    if condition.star_tag:
        return None
    for tag in sorted(condition.as_set()):
        match = _TAG.match(tag)
        if match:
            return int(match.group(1))
    raise ApiProblem(412, "If-Match does not name a version of this plan.",
                     slug="precondition-failed")
