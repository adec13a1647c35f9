"""The check-in POST of the API benchmark: single-use links issued for each run, one page
session (its cookie and CSRF token serve every link), and the wrk script that sends the form.

Each link works once, so every run gets fresh ones (round-robin over the check-in plans, so
consecutive requests of a wrk thread answer different plans and none is a late report), and a
run that sends more requests than it had links is refused (later answers would be the cheap
"answer received" page)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scheduler.db import UnitOfWork, make_engine, make_session_factory
from scheduler.services import checkins
from scheduler.services.common import Actor

ACTOR = Actor(key_id=None, name="bench")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_COOKIE = re.compile(r"(cadence_session=[^;]+)")

LUA = """
local ids = {%(ids)s}
local headers = {["Cookie"] = "%(cookie)s",
                 ["Content-Type"] = "application/x-www-form-urlencoded"}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local lo, n, i
function init(args)
  local per = math.floor(#ids / %(threads)d)
  lo = tid * per
  n = per
  i = 0
  math.randomseed(2000 + tid)
end
function request()
  i = i + 1
  local body = string.format("csrf_token=%(csrf)s&pain=%%d&soreness=1_2_days&adverse_event=no"
    .. "&notes=bench", math.random(0, 10))
  return wrk.format("POST", "/c/" .. ids[lo + (i %% n) + 1], headers, body)
end
"""


@contextmanager
def issuer(database_url: str) -> Iterator[Issuer]:
    engine = make_engine(database_url)
    try:
        yield Issuer(engine)
    finally:
        engine.dispose()


class Issuer:
    """Issues links straight through the service (as POST /plans/{id}/checkins does), between
    runs, so making thousands of them costs no HTTP round trips."""

    def __init__(self, engine: object) -> None:
        self.factory = make_session_factory(engine)  # type: ignore[arg-type]

    def links(self, plan_ids: list[str], count: int) -> list[str]:
        now = datetime.now(UTC)
        return [checkins.create_checkin(UnitOfWork(self.factory), plan_ids[n % len(plan_ids)],
                                        expires_in_hours=168, actor=ACTOR, now=now).token
                for n in range(count)]


def page_session(base: str, token: str) -> tuple[str, str]:
    """(Cookie header value, CSRF token) of one GET of a link's page."""
    with urllib.request.urlopen(f"{base}/c/{token}", timeout=30) as response:
        cookie = _COOKIE.search(response.headers.get("Set-Cookie", ""))
        csrf = _CSRF.search(response.read().decode())
    if cookie is None or csrf is None:
        raise RuntimeError("the check-in page gave no session cookie or CSRF token")
    return cookie.group(1), csrf.group(1)


def write_lua(path: Path, tokens: list[str], cookie: str, csrf: str, threads: int) -> None:
    path.write_text(LUA % {"ids": ", ".join(f'"{t}"' for t in tokens), "cookie": cookie,
                           "csrf": csrf, "threads": threads})


def needed(previous_rps: float | None, seconds: float) -> int:
    """Links for one run: half again what the last run of it would have used (the first run
    guesses 800/s: a quiet 2-core machine sent 3,024 in a first run sized for 300/s)."""
    return max(1500, int((previous_rps or 800.0) * seconds * 1.5) + 200)


@dataclass
class CheckinRuns:
    """What a check-in run needs: fresh links each time."""

    issuer: Issuer
    plan_ids: list[str]
    cookie: str
    csrf: str
    last_rps: float | None = None

    def prepare(self, script: Path, seconds: float, threads: int) -> int:
        """Write the run's script with new links; returns how many a run may use."""
        count = needed(self.last_rps, seconds)
        write_lua(script, self.issuer.links(self.plan_ids, count), self.cookie, self.csrf,
                  threads)
        return count // threads * threads  # each wrk thread walks count // threads of them
