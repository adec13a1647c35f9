"""Webhook test support: a real local HTTP receiver and clinic / plan / subscription builders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scheduler.db import UnitOfWork
from scheduler.services import clinics, patients, plans
from scheduler.services import webhooks as service
from scheduler.services.common import Actor
from scheduler.webhooks.outbox import EVENT_TYPES

SETUP = Actor(key_id=None, name="test-setup")
UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What the receiver answers: a status, after `delay` seconds, maybe a Location."""

    status: int = 200
    delay: float = 0.0
    location: str | None = None


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 (port 0) that records every request it gets.

    `script` answers each request (called with the request); the default is 200.
    """

    script: Callable[[Received], Reply] = lambda _: Reply()
    received: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]

    def types(self) -> list[str]:
        return [json.loads(r.body)["type"] for r in self.received]


@contextmanager
def receiver(script: Callable[[Received], Reply] | None = None) -> Iterator[Receiver]:
    state = Receiver(script) if script else Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with state.lock:
                state.received.append(got)
            reply = state.script(got)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                if reply.location:
                    self.send_header("Location", reply.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def make_clinic(uow_factory: UowFactory, now: datetime, name: str = "Kits Physio") -> str:
    return clinics.create_clinic(uow_factory(), name=name, timezone="America/Vancouver",
                                 open_weekdays=[0, 1, 2, 3, 4], holiday_region="CA-BC",
                                 actor=SETUP, now=now).id


def make_plan(uow_factory: UowFactory, clinic_id: str, now: datetime, external_id: str) -> str:
    patient = patients.create_patient(uow_factory(), clinic_id=clinic_id,
                                      external_id=external_id, actor=SETUP, now=now)
    return plans.create_plan(uow_factory(), patient_id=patient.id, condition="Low back pain",
                             onset_date=date(2026, 9, 1), baseline={"pain": 6},
                             neuropathic_symptoms=False, actor=SETUP, now=now).id


def subscribe(uow_factory: UowFactory, clinic_id: str, url: str, now: datetime,
              events: tuple[str, ...] = EVENT_TYPES) -> service.CreatedWebhook:
    return service.create_webhook(uow_factory(), clinic_id=clinic_id, url=url,
                                  events=list(events), actor=SETUP, now=now)


def act(uow_factory: UowFactory, plan_id: str, action: str, now: datetime,
        **data: Any) -> None:
    plans.act(uow_factory(), plan_id, {"action": action, "reason": "test", **data},
              expected_version=None, actor=SETUP, now=now)


def deliveries(uow_factory: UowFactory, webhook_id: str,
               status: str | None = None) -> list[service.DeliveryView]:
    return list(service.list_deliveries(uow_factory(), webhook_id, status=status,
                                        limit=200).items)
