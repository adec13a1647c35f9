"""ETags from version numbers: If-None-Match (304) on reads, If-Match (428/412) on writes."""

from __future__ import annotations

from flask import Response, request

from api.problems import ApiProblem


def etag(version: int) -> str:
    """The quoted strong ETag of a resource version."""
    return f'"{version}"'


def not_modified(version: int) -> Response | None:
    """A 304 when the client's If-None-Match already holds this version."""
    if request.if_none_match and request.if_none_match.contains_weak(str(version)):
        return Response(status=304, headers={"ETag": etag(version)})
    return None


def expected_version() -> int | None:
    """The version named by If-Match (None for `*`); 428 when the header is missing."""
    if "If-Match" not in request.headers:
        raise ApiProblem(428, "This request needs an If-Match header with the resource's ETag.",
                         slug="precondition-required")
    condition = request.if_match
    if condition.star_tag:
        return None
    for tag in condition.as_set():
        if tag.isdigit():
            return int(tag)  # several tags: the first we issued decides
    raise ApiProblem(412, "If-Match does not name a current version of this resource.",
                     slug="precondition-failed")
