"""Webhook events (``INTERLOCK_WEBHOOK_URL``): ``task.started``, ``request.opened``,
``request.resolved`` and ``task.finished``, POSTed as JSON, signed, in order.

* **Signed.** With ``INTERLOCK_WEBHOOK_SECRET`` every request carries
  ``X-Interlock-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body under the secret
  (verify it over the bytes received, before parsing them; compare in constant time).
* **In order, never blocking.** Events are queued on the event loop (a bounded queue,
  :data:`QUEUE_SIZE`) and sent one at a time by a task of their own, so events of a session
  arrive in the order of its messages; a task never waits for a delivery. When the queue is
  full (the receiver has been down for long) new events are dropped, with a warning.
* **Retried.** A network error or any status other than 2xx is retried with exponential
  backoff (:data:`RETRY_FIRST` doubling to :data:`RETRY_MAX`), :data:`ATTEMPTS` tries in
  all; then the event is dropped and logged. Retries of one event carry the same
  ``X-Interlock-Delivery`` id, so a receiver can tell a retry from a new event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from typing import Any

import httpx

from . import __version__
from .lifecycle import Lifecycle, LifecycleEvent
from .notify import session_link
from .settings import Settings

log = logging.getLogger("interlock.webhooks")

SIGNATURE_HEADER = "X-Interlock-Signature"
EVENT_HEADER = "X-Interlock-Event"
DELIVERY_HEADER = "X-Interlock-Delivery"
#: Events waiting to be sent; more are dropped.
QUEUE_SIZE = 10_000
#: Tries of one event, and the backoff between them (seconds).
ATTEMPTS = 10
RETRY_FIRST, RETRY_MAX = 0.25, 60.0
#: Seconds one POST may take.
REQUEST_TIMEOUT = 10.0
#: Seconds a shutdown waits for queued events (each gets one more try, no backoff).
SHUTDOWN_GRACE = 2.0


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Interlock-Signature`` value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of the raw ``body`` (what a receiver checks)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def event_body(event: LifecycleEvent, delivery: str, public_url: str | None) -> dict[str, Any]:
    """The JSON object POSTed for ``event``."""
    session = event.session
    record = session.record
    return {
        "id": delivery,
        "event": event.name,
        "time": event.message.get("ts"),
        "task": {
            "task_id": session.id,
            "task_type": record.task_type,
            "created_by": record.created_by,
            "respondents": record.respondents,
            "url": session_link(public_url, session.id),
        },
        "message": event.message,
    }


class WebhookSender:
    """Queues lifecycle events and POSTs them; see the module docstring."""

    def __init__(
        self,
        url: str,
        secret: str | None,
        public_url: str | None,
        *,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.url = url
        self.queue_size = queue_size
        self._secret = secret.encode() if secret is not None else None
        self.public_url = public_url
        self._queue: asyncio.Queue[tuple[str, str, bytes]] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.dropped = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSender | None:
        if settings.webhook_url is None:
            return None
        secret = settings.webhook_secret
        if secret is None:
            log.warning("INTERLOCK_WEBHOOK_URL without INTERLOCK_WEBHOOK_SECRET: events unsigned")
        return cls(
            settings.webhook_url,
            secret.get_secret_value() if secret is not None else None,
            settings.public_url,
        )

    def install(self, lifecycle: Lifecycle) -> None:
        lifecycle.watchers.append(self.observe)

    def start(self) -> None:
        self._queue = asyncio.Queue(self.queue_size)
        self._runner = asyncio.create_task(self._send_loop(), name="interlock-webhooks")

    async def aclose(self, timeout: float) -> None:
        """Try what is queued once more each (no more backoff), for up to ``timeout``
        seconds (at most :data:`SHUTDOWN_GRACE`), then stop."""
        if self._runner is None or self._queue is None:
            return
        self._closing.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(timeout, SHUTDOWN_GRACE)):
                await self._queue.join()
        self._runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._runner
        if self._queue.qsize():
            log.warning("%d webhook events were not sent before the shutdown", self._queue.qsize())

    def observe(self, event: LifecycleEvent) -> None:
        """Queue the event (on the loop; returns at once)."""
        if self._queue is None:
            return
        delivery = uuid.uuid4().hex
        body = json.dumps(
            event_body(event, delivery, self.public_url), separators=(",", ":")
        ).encode()
        try:
            self._queue.put_nowait((event.name, delivery, body))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "webhook queue full (%d events): %s dropped",
                self.queue_size,
                event.name,
                extra={"session_id": event.session.id},
            )

    async def _send_loop(self) -> None:
        assert self._queue is not None
        async with httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT,
            headers={"User-Agent": f"interlock/{__version__}"},
            follow_redirects=False,
        ) as client:
            while True:
                name, delivery, body = await self._queue.get()
                try:
                    await self._deliver(client, name, delivery, body)
                finally:
                    self._queue.task_done()

    async def _deliver(
        self, client: httpx.AsyncClient, name: str, delivery: str, body: bytes
    ) -> None:
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: name,
            DELIVERY_HEADER: delivery,
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        delay = RETRY_FIRST
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = await client.post(self.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return
                problem = f"HTTP {response.status_code}"
            if attempt == ATTEMPTS or self._closing.is_set():
                log.error("webhook %s not delivered after %d tries (%s)", name, attempt, problem)
                return
            log.warning("webhook %s failed (%s); retrying in %.2g s", name, problem, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closing.wait()  # a shutdown cuts the backoff short
            delay = min(delay * 2, RETRY_MAX)
