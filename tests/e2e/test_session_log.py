"""The whole session log, the task list's filters and presence, in a real browser."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Console, _serve
from .test_console import FORM, compose_dialog, fill_email
from .test_sign_in import sign_in

STEPS = 150  # two messages each (a line, a progress): far beyond the replay window


@pytest.fixture
def small_window(tmp_path: Path) -> Iterator[Console]:
    """A server that replays only 20 messages to a connecting tab."""
    with (
        _serve(tmp_path, {"INTERLOCK_HISTORY_SIZE": "20"}) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        yield Console(url, http)


def stream_log(page: Page) -> Locator:
    return page.get_by_role("log", name="Stream output")


def step(i: int) -> str:
    return f"Processing email step {i}/{STEPS}..."


def test_earlier_output_loads_above_the_live_stream_and_the_log_exports(
    page: Page, small_window: Console, tmp_path: Path
) -> None:
    sid = small_window.start(
        "interactive_demo", stream_count=STEPS, delay=0, fail_attempts=0, max_attempts=1
    )
    page.goto(small_window.session_url(sid))
    expect(compose_dialog(page)).to_be_visible()  # waiting, after every step
    log = stream_log(page)
    expect(log).to_contain_text(step(STEPS))
    expect(log).not_to_contain_text(step(1))  # only the replay window

    load = page.get_by_role("button", name="Load earlier output")
    while load.count():
        load.click()
        expect(page.get_by_role("button", name="Loading earlier output…")).to_have_count(0)
    log.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    first = log.get_by_text(step(1))
    expect(first).to_be_visible()
    # Numbered by seq, as the log numbers it: the same number in every tab and in the export.
    messages = small_window.http.get(f"/tasks/{sid}/messages", params={"limit": 10}).json()
    seq = next(m["seq"] for m in messages["messages"] if m.get("content") == step(1))
    expect(first).to_have_text(f"{seq}{step(1)}")

    # The live tail goes on below what was loaded.
    fill_email(compose_dialog(page))
    compose_dialog(page).get_by_role("button", name="Submit").click()
    send = page.get_by_role("dialog", name=re.compile("Send e-mail to"))
    send.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status", name="task status")).to_have_text(re.compile("completed"))

    with page.expect_download() as download:
        page.get_by_role("button", name="Export log").click()
    assert download.value.suggested_filename == f"session-{sid}.jsonl"
    saved = tmp_path / "log.jsonl"
    download.value.save_as(saved)
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    last_seq = small_window.http.get(f"/tasks/{sid}").json()["last_seq"]
    assert [m["seq"] for m in lines] == list(range(1, last_seq + 1))
    streamed = [m["content"] for m in lines if m["type"] == "stream"]
    assert streamed == [step(i) for i in range(1, STEPS + 1)]
    assert lines[-1]["type"] == "task_completed"


def test_the_task_list_filters_by_type_text_and_day_and_pages(page: Page, console: Console) -> None:
    demo = console.start("interactive_demo", stream_count=0, delay=0)
    queued = []
    for _ in range(51):
        r = console.http.post("/tasks", json={"task_type": "dummy_short", "queue": True})
        assert r.status_code == 202, r.text
        queued.append(r.json()["task_id"])
    page.goto(console.url)
    tasks = page.get_by_role("region", name="Tasks")
    rows = tasks.get_by_role("link")
    expect(rows).to_have_count(50)
    tasks.get_by_role("button", name="Older").click()
    expect(rows).to_have_count(2)  # the two oldest: the demo and the first queued one
    expect(tasks.get_by_text("Tasks 51\u201352")).to_be_visible()
    tasks.get_by_role("button", name="Newer").click()
    expect(rows).to_have_count(50)

    filters = page.get_by_role("search", name="Filter tasks")
    filters.get_by_label("Type").select_option("interactive_demo")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(demo)
    filters.get_by_label("Type").select_option("")
    filters.get_by_label("Search").fill(queued[7][:13])
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(queued[7])
    filters.get_by_label("Search").fill("")
    filters.get_by_label("To").fill("2020-01-01")
    expect(tasks.get_by_text("No tasks match.")).to_be_visible()
    filters.get_by_label("To").fill("")
    filters.get_by_label("From").fill("2020-01-01")
    expect(rows).to_have_count(50)


def test_each_tab_sees_who_watches_and_who_is_answering(
    new_page: Any, auth_console: Console
) -> None:
    sid = auth_console.start("interactive_demo", stream_count=0, delay=0)
    otto: Page = new_page()
    ada: Page = new_page()
    for page, name in ((otto, "otto"), (ada, "ada")):
        page.goto(auth_console.session_url(sid))
        sign_in(page, name)
        expect(compose_dialog(page)).to_be_visible()
    for page in (otto, ada):
        presence = page.get_by_role("region", name="Presence")
        expect(presence).to_contain_text("Watching: 2 tabs — ")
        expect(presence).to_contain_text("otto")
        expect(presence).to_contain_text("ada")
    # The form took focus by itself in both tabs: nobody is answering yet.
    expect(otto.get_by_text("is answering…")).to_have_count(0)

    ada_form = compose_dialog(ada)
    ada_form.get_by_label("Subject of the email").click()
    expect(otto.get_by_text("ada is answering…")).to_be_visible()
    expect(ada.get_by_text("is answering…")).to_have_count(0)  # not shown to herself

    # Leaving the form ends it; coming back to it starts it again.
    ada.get_by_role("heading", level=1).click()
    expect(otto.get_by_text("ada is answering…")).to_have_count(0)
    ada_form.get_by_label("Subject of the email").click()
    expect(otto.get_by_text("ada is answering…")).to_be_visible()

    # Informational only: otto may still answer, and his valid answer wins.
    fill_email(compose_dialog(otto))
    compose_dialog(otto).get_by_role("button", name="Submit").click()
    expect(ada.get_by_role("dialog", name=FORM)).to_be_hidden()
    expect(otto.get_by_text("ada is answering…")).to_have_count(0)
    # A tab closing is seen by the other.
    ada.close()
    expect(otto.get_by_role("region", name="Presence")).to_contain_text("Watching: 1 tab — otto")
