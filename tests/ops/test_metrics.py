"""GET /metrics: Prometheus text format, read from a real server as Prometheus would."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from interlock.auth import Role
from tests.support.auth import seed
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def scrape(http: httpx.AsyncClient, **kw: object) -> dict[tuple[str, tuple[str, ...]], float]:
    """Every sample as ``{(name, (label=value, ...)): value}``."""
    response = await http.get("/metrics", **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[(sample.name, labels)] = sample.value
    return out


def value(samples: dict[tuple[str, tuple[str, ...]], float], name: str, *labels: str) -> float:
    return samples[(name, tuple(labels))]


async def test_metrics_follow_a_prompt_an_answer_a_queue_and_a_cancel(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", registry=make_registry(), max_concurrent=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            idle = await scrape(http)
            assert value(idle, "interlock_tabs_connected") == 0
            assert value(idle, "interlock_open_requests") == 0
            assert value(idle, "interlock_tasks_finished_total", "status=completed") == 0

            created = await http.post("/tasks", json={"task_type": "confirm_once"})
            task_id = created.json()["task_id"]
            async with await WS.open(server.ws_url, task_id) as ws:
                request = await ws.until("request_confirmation")
                waiting = await scrape(http)
                assert value(waiting, "interlock_tabs_connected") == 1
                assert value(waiting, "interlock_open_requests") == 1
                assert value(waiting, "interlock_open_request_age_seconds") >= 0
                assert value(waiting, "interlock_tasks", "status=waiting") == 1
                assert value(waiting, "interlock_replay_messages_count") == 1
                await http.post(
                    f"/tasks/{task_id}/answer",
                    json={"request_id": request["request_id"], "value": True},
                )
                await ws.until("task_completed")
            done = await scrape(http)
            assert value(done, "interlock_open_requests") == 0
            assert value(done, "interlock_tasks", "status=waiting") == 0
            assert value(done, "interlock_answer_seconds_count") == 1
            assert value(done, "interlock_tasks_finished_total", "status=completed") == 1
            assert value(done, "interlock_messages_sent_total") >= len(ws.received) - 2
            assert value(done, "interlock_bytes_sent_total") > value(
                done, "interlock_messages_sent_total"
            )
            assert value(done, "interlock_journal_commit_seconds_count") > 0

            # Two blocking tasks fill both slots; a third queues, then all are cancelled.
            ids = [
                (await http.post("/tasks", json={"task_type": "block"})).json()["task_id"]
                for _ in range(2)
            ]
            queued = await http.post("/tasks", json={"task_type": "block", "queue": True})
            assert queued.status_code == 202, queued.text
            busy = await scrape(http)
            assert value(busy, "interlock_queue_length") == 1
            assert value(busy, "interlock_tasks", "status=queued") == 1
            for cancel in [*ids, queued.json()["task_id"]]:
                assert (await http.delete(f"/tasks/{cancel}")).status_code == 200
                async with await WS.open(server.ws_url, cancel) as ws:
                    await ws.until("task_cancelled")  # committed and published by now
            after = await scrape(http)
            assert value(after, "interlock_queue_length") == 0
            assert value(after, "interlock_tasks_finished_total", "status=cancelled") == 3
            # The two that ran and the queued one: each measured from its cancel to its end.
            assert value(after, "interlock_cancel_stop_seconds_count") == 3


async def test_with_auth_on_metrics_need_a_token(tmp_path: Path) -> None:
    people = await seed(tmp_path / "data")
    with run_server(tmp_path / "data", auth=True) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            anonymous = await http.get("/metrics")
            assert anonymous.status_code == 401
            samples = await scrape(http, headers=people.headers(Role.VIEWER))
            assert value(samples, "interlock_tabs_connected") == 0
