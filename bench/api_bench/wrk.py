"""wrk for the API benchmark: Lua scripts that spread requests over rows, output parsing."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.api_bench.procs import Children

WRK = shutil.which("wrk") or "/usr/bin/wrk"

LUA_COMMON = """
local ids = {%(ids)s}
local headers = {%(headers)s}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local lo, n, i
function init(args)
  -- wrk threads are numbered 0..T-1 in setup(); each walks its own slice of the ids
  local threads = %(threads)d
  local per = math.floor(#ids / threads)
  lo = tid * per
  n = per
  i = 0
  math.randomseed(1000 + tid)
end
local function next_id()
  i = i + 1
  return ids[lo + (i %% n) + 1]
end
"""

LUA_REQUEST = {
    "next_visit": """
function request()
  return wrk.format("GET", "/api/v1/plans/" .. next_id() .. "/next-visit", headers)
end
""",
    "fhir": """
function request()
  return wrk.format("GET", "/api/v1/plans/" .. next_id() .. "/fhir", headers)
end
""",
    # the ids of the cds script are patients' external ids (the hook's patientId)
    "cds": """
function request()
  local body = string.format('{"hook": "appointment-book", "hookInstance": "bench-%d", '
    .. '"context": {"userId": "Practitioner/bench", "patientId": "%s", "appointments": '
    .. '{"resourceType": "Bundle", "type": "collection", "entry": ['
    .. '{"resource": {"resourceType": "Appointment", "id": "a1", "status": "proposed", '
    .. '"start": "%s"}}, '
    .. '{"resource": {"resourceType": "Appointment", "id": "a2", "status": "proposed", '
    .. '"start": "%s"}}]}}}', i, next_id(), soon, later)
  return wrk.format("POST", "/cds-services/ims-cadence-visit-window", headers, body)
end
""",
    "report": """
function request()
  local body = string.format('{"recorded_at": "%s", "pain": %d, "function": %d}',
    os.date("!%Y-%m-%dT%H:%M:%S+00:00"), math.random(0, 10), math.random(0, 10))
  return wrk.format("POST", "/api/v1/plans/" .. next_id() .. "/reports", headers, body)
end
""",
    # the ids of the page script are whole paths (the staff pages: a session cookie header)
    "page": """
function request()
  return wrk.format("GET", next_id(), headers)
end
""",
    "bare_get": """
function request()
  return wrk.format("GET", "/rows/" .. next_id(), headers)
end
""",
    "bare_post": """
function request()
  local body = string.format('{"name": "bench %d", "value": %d}',
    math.random(0, 1000000), math.random(0, 1000))
  return wrk.format("POST", "/rows", headers, body)
end
""",
}


def lua_string(value: str) -> str:
    """`value` as a double-quoted Lua string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 32 for c in escaped):
        raise ValueError("control characters in a wrk script string")
    return f'"{escaped}"'


def lua_headers(headers: dict[str, str]) -> str:
    """The body of a Lua table literal of request headers."""
    return ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())


def write_lua(path: Path, endpoint: str, ids: list[str], token: str | None, threads: int,
              extra: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> None:
    """The script of one endpoint; `extra` names Lua string constants it uses (cds: soon,
    later). Requests carry `headers`, by default the API's: Bearer `token` and JSON."""
    if headers is None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    common = LUA_COMMON % {"ids": ", ".join(lua_string(i) for i in ids),
                           "headers": lua_headers(headers), "threads": threads}
    constants = "".join(f"local {name} = {lua_string(value)}\n"
                        for name, value in (extra or {}).items())
    path.write_text(common + constants + LUA_REQUEST[endpoint])


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s+(\d+(?:\.\d+)?)(us|ms|s|m)\s*$")


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non2xx: int
    raw: str = field(repr=False, default="")


def parse_wrk(output: str) -> WrkResult:
    percentiles: dict[str, float] = {}
    in_dist = False
    for line in output.splitlines():
        if "Latency Distribution" in line:
            in_dist = True
            continue
        if in_dist:
            match = _DURATION.match(line)
            if match:
                percentiles[match.group(1)] = float(match.group(2)) * _UNIT_MS[match.group(3)]
                continue
            in_dist = False
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    # read errors are not counted: gunicorn's sync workers close every connection after the
    # response (no keep-alive), which wrk may see as a read error on the next request
    errors = (int(socket_errors.group(1)) + int(socket_errors.group(3))
              + int(socket_errors.group(4))) if socket_errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return WrkResult(float(rps.group(1)), percentiles["50"], percentiles["99"],
                     int(total.group(1)), errors, int(non2xx.group(1)) if non2xx else 0, output)


def run_wrk(children: Children, url: str, script: Path, seconds: float, threads: int,
            connections: int) -> WrkResult:
    proc = children.start([WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s",
                           "--timeout", "5s", "--latency", "-s", str(script), url],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 60)
    finally:
        children.stop(proc)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{text}")
    return parse_wrk(text)
