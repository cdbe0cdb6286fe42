"""Notifications to people (``INTERLOCK_NOTIFY_URLS``, Apprise URL syntax): a prompt that
waited ``INTERLOCK_NOTIFY_AFTER`` seconds without an answer, a task that failed or was
interrupted.

Each message names the task, the prompt, who may answer it and links to the console's
session page (``INTERLOCK_PUBLIC_URL``). Apprise is blocking (it talks SMTP, HTTP, ...):
it runs on one worker thread of its own, so a slow mail server delays only the next
notification, never a task or the event loop, and a failure is logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .auth.respondents import who_may_answer
from .lifecycle import Lifecycle, LifecycleEvent, OpenRequest
from .sessions import Session
from .settings import Settings

log = logging.getLogger("interlock.notify")

#: The console's page of a session (frontend/src/app/App.tsx: ``/sessions/:sessionId``).
SESSION_PAGE = "/sessions/{session_id}"


class InvalidNotifyURL(ValueError):
    """Raised when an ``INTERLOCK_NOTIFY_URLS`` entry is not a URL Apprise knows."""


def session_link(public_url: str | None, session_id: str) -> str | None:
    """The console's page of the session, or None without ``INTERLOCK_PUBLIC_URL``."""
    if public_url is None:
        return None
    return public_url + SESSION_PAGE.format(session_id=session_id)


@dataclass(frozen=True, slots=True)
class Notification:
    title: str
    body: str


class Notifier:
    """Watches a ``Lifecycle`` and tells the Apprise targets; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        # Imported only when notifications are on (it is a large package), and here, when
        # the app is built: never on the event loop.
        import apprise
        from apprise.utils.parse import parse_urls

        self.after = settings.notify_after
        self.public_url = settings.public_url
        self.auth = settings.auth
        self._apprise: Any = apprise.Apprise()
        for url in parse_urls(settings.notify_urls):  # type: ignore[no-untyped-call]
            if not self._apprise.add(url):
                raise InvalidNotifyURL(
                    f"INTERLOCK_NOTIFY_URLS: not a notification URL Apprise knows: {url!r}"
                )
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._lifecycle: Lifecycle | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="interlock-notify")
        self._pending: set[Future[None]] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier | None:
        return cls(settings) if settings.notify_urls and settings.notify_urls.strip() else None

    def install(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle
        lifecycle.watchers.append(self.observe)

    # ------------------------------------------------------------------- on the loop

    def observe(self, event: LifecycleEvent) -> None:
        message = event.message
        if event.name == "request.opened":
            request_id = message["request_id"]
            loop = asyncio.get_running_loop()
            self._timers[request_id] = loop.call_later(self.after, self._overdue, request_id)
        elif event.name == "request.resolved":
            timer = self._timers.pop(message["request_id"], None)
            if timer is not None:
                timer.cancel()
        elif event.name == "task.finished" and message["type"] in (
            "task_failed",
            "task_interrupted",
        ):
            self.send(self._ended(event.session, message))

    def _overdue(self, request_id: str) -> None:
        self._timers.pop(request_id, None)
        still_open = self._lifecycle.open_requests() if self._lifecycle is not None else []
        opened = next((r for r in still_open if r.request_id == request_id), None)
        if opened is not None:  # else it was resolved meanwhile
            self.send(self._waiting(opened))

    def send(self, notification: Notification) -> None:
        """Hand ``notification`` to the worker thread; returns at once."""
        future = self._pool.submit(self._notify, notification)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def aclose(self, timeout: float) -> None:
        """Stop the timers; wait up to ``timeout`` seconds for what is being sent."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        pending = [asyncio.wrap_future(f) for f in list(self._pending)]
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------- the messages

    def _task_line(self, session: Session) -> str:
        return f"Task: {session.record.task_type} ({session.id})"

    def _link_line(self, session: Session) -> str:
        link = session_link(self.public_url, session.id)
        if link is None:
            return "Open the session in the console (set INTERLOCK_PUBLIC_URL for a link)."
        return f"Open: {link}"

    def _waiting(self, opened: OpenRequest) -> Notification:
        session = opened.session
        body = "\n".join(
            [
                self._task_line(session),
                f"Prompt: {opened.prompt}",
                f"Waiting for an answer for {self.after:g} s.",
                f"Who may answer: {who_may_answer(session.record.respondents, self.auth)}",
                self._link_line(session),
            ]
        )
        return Notification(f"Interlock: {session.record.task_type} needs an answer", body)

    def _ended(self, session: Session, message: dict[str, object]) -> Notification:
        failed = message["type"] == "task_failed"
        what = "failed" if failed else "was interrupted"
        detail = f"Error: {message.get('error')}" if failed else f"Reason: {message.get('reason')}"
        body = "\n".join([self._task_line(session), detail, self._link_line(session)])
        return Notification(f"Interlock: {session.record.task_type} {what}", body)

    # ---------------------------------------------------------------- on the thread

    def _notify(self, notification: Notification) -> None:
        try:
            ok = self._apprise.notify(title=notification.title, body=notification.body)
        except Exception:
            log.exception("sending the notification %r failed", notification.title)
            return
        if not ok:
            log.warning("a notification target refused %r (see apprise's log)", notification.title)
