"""Webhook test support: a real local HTTP receiver that records what it gets.

Clinics, plans and subscriptions come from tests/builders.py."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from scheduler.webhooks.delivery import RunReport, deliver_due
from scheduler.webhooks.health import Policy


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass(frozen=True)
class Reply:
    """What the receiver answers: a status, after `delay` seconds, maybe a Location or a
    Retry-After."""

    status: int = 200
    delay: float = 0.0
    location: str | None = None
    retry_after: str | None = None


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
            got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                           time.monotonic())
            with state.lock:
                state.received.append(got)
            reply = state.script(got)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                if reply.location:
                    self.send_header("Location", reply.location)
                if reply.retry_after:
                    self.send_header("Retry-After", reply.retry_after)
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



# WEBHOOK_ALLOW_PRIVATE_NETWORKS on: the receivers above listen on 127.0.0.1 over plain http
LOCAL = Policy(allow_private=True)


def deliver(uow_factory: Callable[[], Any], **kwargs: Any) -> RunReport:
    """deliver_due with WEBHOOK_ALLOW_PRIVATE_NETWORKS on (LOCAL), for local receivers."""
    return deliver_due(uow_factory, policy=kwargs.pop("policy", LOCAL), **kwargs)
