"""The operator console in a real browser against a real server: the POC's flows, end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from .conftest import Console, screenshot

FORM = "Compose the e-mail"
ADDRESS = "lab@example.com"
FAST_DEMO = {"stream_count": 3, "delay": 0, "fail_attempts": 1}
# Every tab of these tests connects from the loopback address.
ANSWERED_ELSEWHERE = r"Answered by 127\.0\.0\.1 \(another tab\)"


def compose_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name=FORM)


def fill_email(dialog: Locator, to_address: str = ADDRESS) -> None:
    dialog.get_by_label("Subject of the email").fill("Alignment report")
    dialog.get_by_label("Body of the email").fill("Fibre coupled at 0.93.")
    dialog.get_by_label("Recipient email address").fill(to_address)


def retry_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name=re.compile(r"Attempt 1 failed.*Retry\?"))


def send_dialog(page: Page, to_address: str = ADDRESS) -> Locator:
    return page.get_by_role("dialog", name=f"Send e-mail to {to_address}?")


def task_status(page: Page) -> Locator:
    return page.get_by_role("status", name="task status")


def connection(page: Page) -> Locator:
    return page.get_by_role("status", name="connection")


def test_interactive_demo_runs_to_completion_in_the_browser(page: Page, console: Console) -> None:
    page.goto(console.url)
    page.get_by_label("Task type").select_option("interactive_demo")
    page.get_by_label("stream_count").fill("3")
    page.get_by_label("delay").fill("0")
    page.get_by_label("fail_attempts").fill("1")
    expect(page.get_by_role("button", name="Start Task")).to_be_enabled()
    screenshot(page, "start")
    page.get_by_role("button", name="Start Task").click()

    expect(page).to_have_url(re.compile(r"/sessions/[\w-]+$"))
    expect(connection(page)).to_have_text("connected")
    dialog = compose_dialog(page)
    expect(dialog).to_be_visible()
    fill_email(dialog)
    screenshot(page, "form")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog).to_be_hidden()

    retry = retry_dialog(page)
    expect(retry).to_be_visible()
    retry.get_by_role("button", name="Yes").click()

    send = send_dialog(page)
    expect(send).to_be_visible()
    expect(send.get_by_role("row", name="Subject Alignment report")).to_be_visible()
    send.get_by_role("button", name="Yes").click()

    expect(task_status(page)).to_have_text("completed")
    expect(page.get_by_role("heading", name="Completed")).to_be_visible()
    expect(page.get_by_role("row", name=f"To address {ADDRESS}")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Task progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    stream = page.get_by_role("log", name="Stream output")
    expect(stream.get_by_text("Processing email step 3/3...")).to_be_visible()
    failure = "Attempt 1/3 failed: Simulated sending failure (attempt 1)"
    expect(stream.get_by_text(failure)).to_be_visible()
    expect(page.get_by_text(f"E-mail sent to {ADDRESS}")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # The audit trail: every answered request, what was answered, by whom, over which route.
    answers = page.get_by_role("region", name="Answers").get_by_role("table", name="Answers")
    rows = answers.get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three requests
    who = r"127\.0\.0\.1 via websocket"  # the host: the ephemeral port says nothing
    expect(rows.nth(1)).to_contain_text(FORM)
    expect(rows.nth(1)).to_contain_text(f"to_address: {ADDRESS}")
    expect(rows.nth(1)).to_contain_text(re.compile(who))
    retried = rf"Attempt 1 failed.*Retry\?\s*retry\s*Yes\s*{who}"
    expect(rows.nth(2)).to_contain_text(re.compile(retried))
    sent = rf"Send e-mail to {re.escape(ADDRESS)}\?\s*confirm\s*Yes\s*{who}"
    expect(rows.nth(3)).to_contain_text(re.compile(sent))
    screenshot(page, "answers")


def test_an_invalid_email_gets_a_field_error_and_keeps_the_form(
    page: Page, console: Console
) -> None:
    page.goto(console.session_url(console.start("interactive_demo", **FAST_DEMO)))
    dialog = compose_dialog(page)
    fill_email(dialog, to_address="not-an-address")
    dialog.get_by_role("button", name="Submit").click()

    address = dialog.get_by_label("Recipient email address")
    expect(dialog.get_by_text(re.compile("not a valid email address"))).to_be_visible()
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_value("not-an-address")
    expect(dialog.get_by_label("Subject of the email")).to_have_value("Alignment report")

    address.fill(ADDRESS)
    dialog.get_by_role("button", name="Submit").click()
    expect(retry_dialog(page)).to_be_visible()


def test_an_answer_in_one_tab_closes_the_dialog_in_the_other(
    new_page: Any, console: Console
) -> None:
    url = console.session_url(console.start("interactive_demo", **FAST_DEMO))
    first: Page = new_page()
    second: Page = new_page()
    first.goto(url)
    second.goto(url)
    fill_email(compose_dialog(first))
    compose_dialog(first).get_by_role("button", name="Submit").click()

    # The form was answered in the first tab: the second says so.
    expect(compose_dialog(second)).to_be_hidden()
    expect(second.get_by_text(re.compile(rf"{ANSWERED_ELSEWHERE}.*{FORM}"))).to_be_visible()
    expect(first.get_by_role("log", name="Notices")).not_to_contain_text("Answered by")

    expect(retry_dialog(first)).to_be_visible()
    expect(retry_dialog(second)).to_be_visible()
    second.get_by_role("button", name="Yes").click()

    expect(retry_dialog(first)).to_be_hidden()
    notice = first.get_by_text(re.compile(rf"{ANSWERED_ELSEWHERE}: Yes — .Attempt 1"))
    expect(notice).to_be_visible()
    expect(second.get_by_role("log", name="Notices")).not_to_contain_text("Attempt 1")
    # Both tabs move on to the next prompt.
    expect(send_dialog(first)).to_be_visible()
    expect(send_dialog(second)).to_be_visible()


def test_a_reload_mid_prompt_shows_the_same_prompt(page: Page, console: Console) -> None:
    page.goto(console.session_url(console.start("interactive_demo", **FAST_DEMO)))
    expect(compose_dialog(page)).to_be_visible()
    stream = page.get_by_role("log", name="Stream output")
    expect(stream.get_by_text("Processing email step 3/3...")).to_be_visible()

    page.reload()
    dialog = compose_dialog(page)
    expect(dialog).to_be_visible()
    expect(connection(page)).to_have_text("connected")
    expect(task_status(page)).to_have_text("waiting")
    # The replay rebuilt the stream exactly once.
    expect(stream.get_by_text("Processing email step 1/3...")).to_have_count(1)
    expect(stream.get_by_text("Processing email step 3/3...")).to_have_count(1)

    fill_email(dialog)
    dialog.get_by_role("button", name="Submit").click()
    retry = retry_dialog(page)
    expect(retry).to_be_visible()

    page.reload()
    expect(retry_dialog(page)).to_be_visible()
    retry_dialog(page).get_by_role("button", name="Yes").click()
    send_dialog(page).get_by_role("button", name="Yes").click()
    expect(task_status(page)).to_have_text("completed")


def test_a_dropped_connection_resumes_without_duplicate_or_missing_lines(
    page: Page, console: Console
) -> None:
    sockets: list[WebSocketRoute] = []

    def proxy(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/"), proxy)
    session_id = console.start("dummy_short", duration=4, steps=40)
    page.goto(console.session_url(session_id))
    stream = page.get_by_role("log", name="Stream output")
    expect(stream.get_by_text("Step 8/40 completed")).to_be_visible()

    sockets[0].close(code=4000, reason="network blip")  # the tab's side of the connection drops
    expect(stream.get_by_text("Step 40/40 completed")).to_be_visible()
    expect(task_status(page)).to_have_text("completed")
    expect(page.get_by_text("40 lines", exact=True)).to_be_visible()
    expect(connection(page)).to_have_text("connected")
    assert len(sockets) == 2
    assert re.search(r"[?&]since=[1-9]\d*", sockets[1].url), sockets[1].url


def test_the_task_list_shows_who_is_waiting_and_opens_the_session(
    page: Page, console: Console
) -> None:
    session_id = console.start("interactive_demo", **FAST_DEMO)
    page.goto(console.url)
    row = page.get_by_role("row", name=re.compile(session_id))
    expect(row.get_by_text(f"waiting for operator: {FORM}")).to_be_visible()
    expect(row.get_by_text("waiting", exact=True)).to_be_visible()
    row.get_by_role("link").click()
    expect(page).to_have_url(console.session_url(session_id))
    expect(compose_dialog(page)).to_be_visible()


def test_a_running_task_can_be_cancelled(page: Page, console: Console) -> None:
    page.goto(console.url)
    page.get_by_label("Task type").select_option("dummy_long")
    page.get_by_label("duration").fill("60")
    page.get_by_label("steps").fill("60")
    page.get_by_role("button", name="Start Task").click()

    expect(task_status(page)).to_have_text("running")
    stream = page.get_by_role("log", name="Stream output")
    expect(stream.get_by_text("Step 1/60 completed")).to_be_visible()
    page.get_by_role("button", name="Cancel Task").click()

    expect(task_status(page)).to_have_text("cancelled")
    expect(page.get_by_role("heading", name="Cancelled")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel Task")).to_be_disabled()
    session_id = page.url.rsplit("/", 1)[1]
    assert console.http.get(f"/tasks/{session_id}").json()["status"] == "cancelled"


def test_start_form_shows_server_validation_next_to_the_field(page: Page, console: Console) -> None:
    page.goto(console.url)
    page.get_by_label("Task type").select_option("interactive_demo")
    page.get_by_label("stream_count").fill("-1")
    page.get_by_role("button", name="Start Task").click()
    field = page.get_by_label("stream_count")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile("greater than or equal to 0"))).to_be_visible()
    expect(page).to_have_url(console.url + "/")


def axis_row(page: Page, axis: str) -> Locator:
    return page.get_by_role("region", name="Hardware").get_by_role(
        "row", name=re.compile(rf"^axis {axis}\b")
    )


def choose_axis(page: Page, axis: str) -> None:
    """Pick ``axis`` in the start form's select of the controller's axes (the task marks the
    field ``x-interlock-widget: axis``). Waits for the select: until GET /hardware answers,
    the field is a plain text box."""
    page.get_by_role("combobox", name="Axis", exact=True).select_option(axis)


def test_a_hardware_move_waits_for_its_hazard_confirmation(page: Page, console: Console) -> None:
    page.goto(console.url)
    page.get_by_label("Task type").select_option("axis_movement")
    choose_axis(page, "x")
    page.get_by_label("Mode").select_option("relative")
    page.get_by_label("Distance").fill("100")
    page.get_by_label("Speed").fill("1000")
    page.get_by_role("button", name="Start Task").click()

    hazard = page.get_by_role("dialog", name=re.compile(r"^Move x from 0 to 100"))
    expect(hazard).to_be_visible()
    expect(hazard.get_by_text("Hazard: hardware will move")).to_be_visible()
    expect(hazard.get_by_role("timer")).to_contain_text("then the default answer “No” is used")
    # Motion must be chosen deliberately: "Yes" is never where focus starts.
    expect(hazard.get_by_role("button", name="No")).to_be_focused()
    expect(hazard.get_by_role("row", name="To 100 µm")).to_be_visible()
    expect(hazard.get_by_role("row", name="Speed 1000 µm/s")).to_be_visible()
    expect(axis_row(page, "x")).to_contain_text("0 µm")
    waiting = page.get_by_role("navigation", name="Waiting prompts").get_by_role("status")
    expect(waiting).to_have_text("1 waiting")
    screenshot(page, "confirmation")
    hazard.get_by_role("button", name="Yes").click()

    expect(task_status(page)).to_have_text("completed")
    expect(axis_row(page, "x")).to_contain_text("100 µm")
    expect(axis_row(page, "x")).to_contain_text("idle")
    assert console.http.get("/hardware").json()["axes"][0]["position"] == 100


def test_declining_a_hazard_moves_nothing(page: Page, console: Console) -> None:
    session_id = console.start("axis_movement", axis="x", mode="relative", distance=100, speed=1000)
    page.goto(console.session_url(session_id))
    page.get_by_role("dialog", name=re.compile("^Move x")).get_by_role("button", name="No").click()
    expect(task_status(page)).to_have_text("cancelled")
    expect(page.get_by_text("Reason: declined")).to_be_visible()
    expect(axis_row(page, "x")).to_contain_text("0 µm")


def test_stop_all_axes_halts_a_move_in_progress(page: Page, console: Console) -> None:
    session_id = console.start("axis_movement", axis="y", mode="relative", distance=5000, speed=200)
    page.goto(console.session_url(session_id))
    page.get_by_role("dialog", name=re.compile("^Move y")).get_by_role("button", name="Yes").click()
    expect(axis_row(page, "y")).to_contain_text("moving")
    hardware = page.get_by_role("region", name="Hardware")
    expect(hardware.get_by_text("not an emergency stop")).to_be_visible()
    screenshot(hardware, "hardware")

    hardware.get_by_role("button", name="Stop All Axes").click()
    expect(axis_row(page, "y")).to_contain_text("idle")
    expect(task_status(page)).to_have_text("cancelled")
    expect(page.get_by_text("Reason: hardware stop")).to_be_visible()
    position = console.http.get("/hardware").json()["axes"][1]["position"]
    assert 0 < position < 5000


def test_a_profile_is_plotted_and_its_csv_can_be_downloaded(page: Page, console: Console) -> None:
    session_id = console.start(
        "profile_measurement", axis="x", start=-200, stop=200, points=41, speed=10000
    )
    page.goto(console.session_url(session_id))
    page.get_by_role("dialog", name=re.compile("^Measure a profile")).get_by_role(
        "button", name="Yes"
    ).click()

    expect(task_status(page)).to_have_text("completed")
    plot = page.get_by_role("figure", name=re.compile("^Plot of "))
    expect(plot).to_be_visible()
    expect(plot).to_contain_text("41 points")
    link = page.get_by_role("link", name="profile.csv")
    expect(link).to_be_visible()
    screenshot(page, "session")

    with page.expect_download() as download:
        link.click()
    content = Path(download.value.path()).read_text()
    assert len(content.strip().splitlines()) >= 41


def test_an_unanswered_hazard_times_out_to_no(page: Page, console: Console) -> None:
    session_id = console.start(
        "axis_movement", axis="x", mode="relative", distance=100, speed=1000, confirm_timeout=1.5
    )
    page.goto(console.session_url(session_id))
    hazard = page.get_by_role("dialog", name=re.compile("^Move x"))
    expect(hazard.get_by_role("timer")).to_contain_text("s left to answer")
    expect(hazard).to_be_hidden()
    notices = page.get_by_role("log", name="Notices")
    expect(notices).to_contain_text("timed out — default No used")
    expect(task_status(page)).to_have_text("cancelled")
    # Nobody declined: the outcome says the prompt timed out.
    expect(page.get_by_text("Reason: timed out — default No used")).to_be_visible()
    expect(page.get_by_text("declined")).to_have_count(0)
    expect(axis_row(page, "x")).to_contain_text("0 µm")
