"""Mixed client traffic: keyed creates (plans, sessions, reports) with deliberate retries of
the same Idempotency-Key, reads, and plan actions with If-Match; every answer is counted."""

from __future__ import annotations

import http.client
import json
import random
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

RETRYABLE = {409, 503}  # a key still in flight, the database away: the same request again


@dataclass
class Tally:
    """What the clients saw, shared by the threads."""

    statuses: list[int] = field(default_factory=list)
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    keys: set[str] = field(default_factory=set)
    replays_differing: int = 0  # a retry with the same key answered with another id
    connection_errors: int = 0
    by_status: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # "POST visits 422" -> count, and one problem title/detail per such kind (no patient data:
    # the soak's own synthetic bodies)
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int, method: str = "", path: str = "", found: Any = None) -> None:
        kind = f"{method} {_kind(path)} {status}"
        with self.lock:
            self.statuses.append(status)
            self.by_status[status] += 1
            self.by_kind[kind] += 1
            if status >= 400 and kind not in self.problems and isinstance(found, dict):
                self.problems[kind] = str(found.get("detail") or found.get("title"))[:300]


def _kind(path: str) -> str:
    """/plans/<id>/visits -> plans/visits: the route, without ids or the query."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    return "/".join(p for i, p in enumerate(parts) if i % 2 == 0)


class Client:
    """One keep-alive connection per thread; reconnects after any socket error."""

    def __init__(self, base: str, token: str, tally: Tally) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token, self.tally = token, tally
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request(method, "/api/v1" + path, body=data, headers=sent)
                resp = self.conn.getresponse()
                raw = resp.read()
                found = json.loads(raw) if raw and resp.getheader(
                    "Content-Type", "").endswith("json") else None
                self.tally.saw(resp.status, method, path, found)
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, found
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.connection_errors += 1
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                time.sleep(0.2)
        return 0, {}, None

    def keyed(self, path: str, body: Any, id_of: Any, table: str, *, retry: bool,
              stop: threading.Event) -> str | None:
        """POST with a fresh key (also the X-Request-Id, so its outbox rows carry it), again
        after a 503 or 409 until answered, and once more on purpose when `retry`: the same
        key with the same body (built once: a retry that changed it would be a 422). Returns
        the created id (None when never acknowledged)."""
        key = f"soak-{secrets.token_hex(10)}"
        payload = body(key)
        headers = {"Idempotency-Key": key, "X-Request-Id": key}
        with self.tally.lock:
            self.tally.keys.add(key)
        first: str | None = None
        deadline = time.monotonic() + 90
        while True:
            status, got, found = self.request("POST", path, payload, headers)
            if status in RETRYABLE or status == 0:
                if time.monotonic() > deadline:
                    return first
                time.sleep(min(float(got.get("retry-after", "1") or 1), 2.0) / 2)
                continue
            if 200 <= status < 300 and found is not None:
                ident = id_of(found)
                with self.tally.lock:
                    self.tally.acknowledged[table].add(ident)
                    if first is not None and ident != first:
                        self.tally.replays_differing += 1
                if first is None:
                    first = ident
                    if retry and not stop.is_set():
                        continue  # the deliberate retry: same key, same body
            return first


def _now(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


def worker(base: str, token: str, plans: list[str], patients: list[str], clinic: str,
           tally: Tally, stop: threading.Event, seed: int) -> None:
    rand = random.Random(seed)
    client = Client(base, token, tally)
    onset = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
    while not stop.is_set():
        plan = rand.choice(plans)
        retry = rand.random() < 0.3
        roll = rand.random()
        if roll < 0.08:  # a new patient and their plan (a patient has one open plan)
            patient = client.keyed("/patients", lambda key: {
                "clinic_id": clinic, "external_id": key}, lambda found: found["id"],
                "patients", retry=retry, stop=stop)
            if patient is None:
                continue
            client.keyed("/plans", lambda key, patient=patient: {
                "patient_id": patient, "condition": f"soak {key}",
                "onset_date": onset, "baseline": {"pain": 6, "function": 4},
                "neuropathic_symptoms": False,
                "consent": {"recorded_at": _now(timedelta(hours=-1)),
                            "recorded_by": "physio:soak"}},
                lambda found: found["id"], "plans", retry=retry, stop=stop)
        elif roll < 0.2:
            client.keyed(f"/plans/{plan}/visits", lambda key: {
                "external_id": key, "kind": "needling", "status": "attended",
                "starts_at": _now(timedelta(minutes=-rand.randint(5, 600)))},
                lambda found: found["id"], "visits", retry=retry, stop=stop)
        elif roll < 0.4:
            client.keyed(f"/plans/{plan}/reports", lambda key: {
                "recorded_at": _now(), "pain": rand.randint(0, 9), "notes": key},
                lambda found: found["report"]["id"], "reports", retry=retry, stop=stop)
        elif roll < 0.48:
            status, got, found = client.request("GET", f"/plans/{plan}")
            if status == 200 and found is not None:
                action = "resume" if found.get("status") == "on_hold" else "hold"
                _act(client, plan, action, got.get("etag"), tally, stop)
        elif roll < 0.75:
            client.request("GET", f"/plans/{plan}/next-visit")
        elif roll < 0.9:
            client.request("GET", f"/plans/{plan}")
        else:
            client.request("GET", f"/followups?clinic_id={clinic}")


def _act(client: Client, plan: str, action: str, etag: str | None, tally: Tally,
         stop: threading.Event) -> None:
    """hold / resume with If-Match (a 412 when another thread changed the plan first)."""
    if etag is None:
        return
    headers = {"If-Match": etag}
    key = f"soak-{secrets.token_hex(10)}"
    headers.update({"Idempotency-Key": key, "X-Request-Id": key})
    with tally.lock:
        tally.keys.add(key)
    deadline = time.monotonic() + 90
    while True:
        status, got, found = client.request("POST", f"/plans/{plan}/actions",
                                            {"action": action, "reason": "soak"}, headers)
        if (status in RETRYABLE or status == 0) and time.monotonic() < deadline:
            time.sleep(0.5)
            continue
        if 200 <= status < 300 and found is not None and found.get("decision"):
            # the event, not the decision's id: a late event elsewhere refolds the plan's
            # history and stores its decisions anew (scheduler/services/plan_core.apply)
            with tally.lock:
                tally.acknowledged["plan_events"].add(found["decision"]["event_id"])
        return
