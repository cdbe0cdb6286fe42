"""``GET /metrics``: the server's health in Prometheus text format, one registry per app.

Most figures are read when Prometheus scrapes, from state the server keeps anyway (the
sessions, the queue, the open prompts, the open WebSockets, the traffic totals); the
histograms are fed where their events happen, none of them per message or per tab: an
answer, a replay, a batch commit, a task that ends after a cancel. So the fan-out path
pays nothing for metrics (``interlock.traffic`` counts once per message).

A registry of its own per app (not prometheus_client's global one): tests run many servers
in one process, and two apps must never share figures.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as CounterMetric
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .auth.registry import ConnectionRegistry
from .lifecycle import LifecycleEvent
from .manager import SessionManager
from .states import TaskStatus

#: What ``/metrics`` answers with: the classic text format every Prometheus reads (the
#: names here are all plain ASCII, so nothing needs the newer format's escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LIVE = [s for s in TaskStatus if not s.is_terminal]
_ENDINGS = {
    "task_completed": TaskStatus.COMPLETED,
    "task_failed": TaskStatus.FAILED,
    "task_cancelled": TaskStatus.CANCELLED,
    "task_interrupted": TaskStatus.INTERRUPTED,
}


class Metrics:
    """The app's registry, its histograms, and the collector of what is read at scrape."""

    def __init__(self, manager: SessionManager, connections: ConnectionRegistry) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.answer_seconds = Histogram(
            "interlock_answer_seconds",
            "Seconds from a prompt being shown to a person's answer (answered prompts only).",
            buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600),
            registry=registry,
        )
        self.replay_messages = Histogram(
            "interlock_replay_messages",
            "Messages replayed to a tab when it connects (since its last seq).",
            buckets=(0, 1, 10, 50, 100, 250, 500, 1000, 5000),
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "interlock_journal_commit_seconds",
            "Seconds the journal took to write one batch (with retries while the store fails).",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.cancel_stop_seconds = Histogram(
            "interlock_cancel_stop_seconds",
            "Seconds from a cancel being asked for to the task's terminal state.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.tasks_finished = CounterMetric(
            "interlock_tasks_finished",
            "Tasks that reached a terminal status since the server started, by status.",
            ["status"],
            registry=registry,
        )
        for status in _ENDINGS.values():
            self.tasks_finished.labels(status.value)
        registry.register(_StateCollector(manager, connections))
        manager.lifecycle.watchers.append(self.observe)
        manager.journal.on_commit = self.commit_seconds.observe

    def observe(self, event: LifecycleEvent) -> None:
        """Feed the histograms from a task's life (on the loop)."""
        if event.name == "request.resolved":
            if event.waited is not None and event.message.get("reason") == "answered":
                self.answer_seconds.observe(event.waited)
        elif event.name == "task.finished":
            status = _ENDINGS[event.message["type"]]
            self.tasks_finished.labels(status.value).inc()
            session = event.session
            if session.cancel_asked_at is not None and session.ended_at is not None:
                self.cancel_stop_seconds.observe(session.ended_at - session.cancel_asked_at)

    def render(self) -> bytes:
        """The text Prometheus scrapes."""
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """What is read from the server's state at each scrape."""

    def __init__(self, manager: SessionManager, connections: ConnectionRegistry) -> None:
        self.manager = manager
        self.connections = connections

    def collect(self) -> Iterable[Metric]:
        manager = self.manager
        by_status = Counter(s.status for s in manager.sessions.values() if not s.status.is_terminal)
        tasks = GaugeMetricFamily(
            "interlock_tasks",
            "Tasks not yet finished, by status (finished ones: interlock_tasks_finished_total).",
            labels=["status"],
        )
        for status in _LIVE:
            tasks.add_metric([status.value], by_status.get(status, 0))
        yield tasks
        yield GaugeMetricFamily(
            "interlock_queue_length", "Tasks waiting in the queue.", len(manager.queue)
        )
        open_requests = manager.lifecycle.open_requests()
        yield GaugeMetricFamily(
            "interlock_open_requests",
            "Prompts waiting for a person's answer.",
            len(open_requests),
        )
        now = time.monotonic()
        oldest = max((now - r.opened_at for r in open_requests), default=0.0)
        yield GaugeMetricFamily(
            "interlock_open_request_age_seconds",
            "Seconds the oldest open prompt has waited (0 when none is open).",
            oldest,
        )
        yield GaugeMetricFamily(
            "interlock_tabs_connected", "Open WebSocket connections.", self.connections.count()
        )
        traffic = manager.traffic
        yield CounterMetricFamily(
            "interlock_messages_sent",
            "Session messages handed to tabs (live and replayed), one per tab.",
            traffic.messages,
        )
        yield CounterMetricFamily(
            "interlock_bytes_sent",
            "WebSocket frame bytes of those messages.",
            traffic.bytes,
        )
