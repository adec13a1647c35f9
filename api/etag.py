"""ETags from version numbers: If-None-Match (304) on reads, If-Match (428/412) on writes.

A tag is `"<version>"`, or `"<version>-<date>"` for resources whose representation also
changes with the clinic's date (a plan's window goes due -> overdue without a write).
If-Match compares the version only, so a plan tag fetched yesterday still works if nobody
changed the plan since.

If-Match follows RFC 9110 section 13.1.1: `*` passes for any current version; otherwise the
field is a list of entity tags and the write goes ahead when any of them matches the current
version by strong comparison. A weak tag (`W/"3"`) never matches, nor do tags we never issue
(`""`, `"x"`); an empty field is an empty list, which matches nothing (412). A field that is
not a list of entity tags at all is a 400; no If-Match is a 428.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Response, request

from api.problems import ApiProblem

_TAG = re.compile(r"^(\d{1,18})(?:-\d{4}-\d{2}-\d{2})?$")
# One element of an If-Match list: an optional weak prefix and a quoted opaque tag
# (etagc = %x21 / %x23-7E / obs-text), then a comma or the end.
_ELEMENT = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")


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


def if_match_tags(field: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque) of each tag of an If-Match list; None when `field` is not a list of
    entity tags. Empty elements (`"1", , "2"`) are allowed, as RFC 9110's list syntax says."""
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(field):
        empty = _EMPTY_ELEMENT.match(field, position)
        if empty:
            position = empty.end()
            continue
        if not field[position:].strip(" \t"):
            break
        match = _ELEMENT.match(field, position)
        if match is None:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


def expected_version() -> frozenset[int] | None:
    """The versions If-Match accepts (None for `*`); 428 when the header is missing, 412 when
    no tag could match any version of ours, 400 when it is malformed."""
    fields = request.headers.getlist("If-Match")
    if not fields:
        raise ApiProblem(428, "This request needs an If-Match header with the resource's ETag.",
                         slug="precondition-required")
    field = ", ".join(fields).strip(" \t")
    if field == "*":
        return None
    tags = if_match_tags(field)
    if tags is None:
        raise ApiProblem(400, "If-Match must be `*` or a list of entity tags such as "
                         '`"3-2026-11-02"`.', slug="malformed-precondition",
                         errors={"If-Match": ["Not `*` nor a list of entity tags."]})
    versions = frozenset(int(match.group(1)) for weak, opaque in tags
                         if not weak and (match := _TAG.match(opaque)))
    if not versions:
        raise ApiProblem(412, "If-Match does not name a current version of this resource "
                         "(weak tags never match).", slug="precondition-failed")
    return versions
