"""Request bodies, checked before anything parses them: size (413), media type (415), and
JSON that is well-formed, shallow and of bounded numbers (400).

Python's json module parses integers of any length (int() of more than 4,300 digits then
raises), accepts NaN and Infinity, and nests until the interpreter's recursion limit; the
schemas that walk a body recurse too. So a body is parsed here, once, with bounded number
literals, its depth measured without recursion, and webargs is handed the result.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request, g, request

from api.problems import ApiProblem

API_PREFIX = "/api/v1"
MAX_DEPTH = 32  # our deepest schema (a ruleset's parameters) nests 4 levels
MAX_NUMBER_CHARS = 32  # a number literal longer than this is never a valid value of ours
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_PARSED = "_cadence_json"
_RAW = "_cadence_body"


class _Rejected(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Rejected(f"A number in the body has more than {MAX_NUMBER_CHARS} characters.")
    return int(literal)


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _Rejected(f"A number in the body has more than {MAX_NUMBER_CHARS} characters.")
    value = float(literal)
    if not math.isfinite(value):
        raise _Rejected("A number in the body is out of range.")
    return value


def _constant(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON.")


def _too_deep(value: Any) -> bool:
    """Whether `value` nests more than MAX_DEPTH arrays/objects (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def parse(raw: bytes) -> Any:
    """The JSON value of `raw`; ApiProblem 400 when it is not bounded, well-formed JSON."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_int=_integer, parse_float=_float,
                           parse_constant=_constant)
    except _Rejected as exc:
        raise ApiProblem(400, exc.detail, slug="malformed-body") from None
    except RecursionError:
        raise ApiProblem(400, f"The body nests deeper than {MAX_DEPTH} levels.",
                         slug="malformed-body") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiProblem(400, "The request body is not valid JSON (UTF-8).",
                         slug="malformed-body") from None
    if isinstance(value, dict | list) and _too_deep(value):
        raise ApiProblem(400, f"The body nests deeper than {MAX_DEPTH} levels.",
                         slug="malformed-body")
    return value


def _has_body(req: Request) -> bool:
    return bool(req.content_length) or "chunked" in req.headers.get("Transfer-Encoding", "")


def check_size() -> None:
    """413 at once when the declared length is over the limit (before authentication: no
    database work for a body we will not read). A body without a length is cut off by
    werkzeug at MAX_CONTENT_LENGTH while it is read."""
    limit = request.max_content_length
    if limit is not None and request.content_length is not None and (
            request.content_length > limit):
        raise ApiProblem(413, f"The request body is larger than {limit} bytes.",
                         slug="body-too-large")


def raw_body() -> bytes:
    """The request's body bytes (read at most once, never past the size limit)."""
    raw = g.get(_RAW)
    if raw is not None:
        found: bytes = raw
        return found
    limit = request.max_content_length
    if (request.content_length is None and limit is not None
            and "wsgi.input_terminated" in request.environ):
        # A chunked body: werkzeug's stream stops at the limit without telling whether
        # more followed (and raises even when the body is exactly the limit), so read one
        # byte past it from the server's stream ourselves.
        raw = request.environ["wsgi.input"].read(limit + 1)
        if len(raw) > limit:
            raise ApiProblem(413, f"The request body is larger than {limit} bytes.",
                             slug="body-too-large")
    else:
        raw = request.get_data(cache=True)
    setattr(g, _RAW, raw)
    return raw


def check_body() -> None:
    """A body sent to an /api/v1 operation must be application/json (415) and valid,
    bounded JSON (400); parsed once here, for webargs and the Idempotency-Key fingerprint."""
    if request.method not in BODY_METHODS or request.url_rule is None:
        return
    if not request.path.startswith(API_PREFIX + "/") or not _has_body(request):
        return
    if not request.is_json:
        raise ApiProblem(415, "The request body must be application/json.",
                         slug="unsupported-media-type",
                         headers={"Accept-Post": "application/json"})
    setattr(g, _PARSED, parse(raw_body()))


_MISSING = object()


def parsed_json(req: Request, missing: Any) -> Any:
    """The body check_body parsed (`missing` when there was none)."""
    value = g.get(_PARSED, _MISSING)
    if value is _MISSING:
        if not req.is_json or not raw_body():
            return missing
        value = parse(raw_body())
        setattr(g, _PARSED, value)
    return value


def init_app(app: Flask, max_body_bytes: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.before_request(check_size)


def init_checks(app: Flask) -> None:
    """Register the media-type and JSON checks (after authentication)."""
    app.before_request(check_body)
