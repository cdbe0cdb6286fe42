"""Signing in, in a real browser against a server with ``INTERLOCK_AUTH=true``: an operator
signs in and answers, a viewer watches the same prompt read-only, signing out, and a sign-in
ended elsewhere sends the tab to the sign-in page and back."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, expect

from tests.support.auth import PASSWORD

from .conftest import Console, screenshot

MOVE = re.compile(r"^Move x from 0 to 100 µm")
COOKIE = "interlock_session"


def start_move(console: Console) -> str:
    """An axis move (started by ada, an admin): it asks its hazard prompt at once."""
    return console.start("axis_movement", axis="x", mode="relative", distance=100, speed=1000)


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("User name").fill(name)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def sign_in_url(console: Console, session_id: str) -> str:
    return f"{console.url}/sign-in?next={quote(f'/sessions/{session_id}', safe='')}"


def test_an_operator_answers_while_a_viewer_watches_read_only_then_signs_out(
    new_page: Any, auth_console: Console
) -> None:
    session_id = start_move(auth_console)

    # The operator asks for the session, is sent to sign in, and comes back to it.
    operator: Page = new_page()
    operator.goto(auth_console.session_url(session_id))
    expect(operator).to_have_url(sign_in_url(auth_console, session_id))
    sign_in(operator, "otto", "wrong password")
    expect(operator.get_by_role("alert")).to_have_text("Invalid username or password")
    screenshot(operator, "sign-in")
    sign_in(operator, "otto")
    expect(operator).to_have_url(auth_console.session_url(session_id))
    expect(operator.get_by_text("Signed in as otto (operator)")).to_be_visible()

    # The viewer sees the same prompt, and cannot answer, cancel or start; stopping is allowed.
    viewer: Page = new_page()
    viewer.goto(auth_console.session_url(session_id))
    sign_in(viewer, "vera")
    expect(viewer.get_by_text("Signed in as vera (viewer)")).to_be_visible()
    watched = viewer.get_by_role("dialog", name=MOVE)
    expect(watched.get_by_text("Only operators can answer.")).to_be_visible()
    expect(watched.get_by_role("button", name="Yes")).to_be_disabled()
    expect(watched.get_by_role("button", name="No")).to_be_disabled()
    expect(viewer.get_by_role("button", name="Cancel Task")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Stop All Axes")).to_be_enabled()
    screenshot(viewer, "viewer")

    # The operator answers; the viewer's copy of the prompt closes and names who answered.
    dialog = operator.get_by_role("dialog", name=MOVE)
    expect(dialog.get_by_text("Only operators can answer.")).to_have_count(0)
    dialog.get_by_role("button", name="Yes").click()
    expect(operator.get_by_role("status", name="task status")).to_have_text("completed")
    expect(viewer.get_by_role("status", name="task status")).to_have_text("completed")
    expect(viewer.get_by_text(re.compile(r"Answered by otto \(another tab\): Yes"))).to_be_visible()
    answers = operator.get_by_role("table", name="Answers")
    expect(answers.get_by_role("row").nth(1)).to_contain_text(re.compile(r"Yes\s*otto"))

    viewer.get_by_role("link", name="← All tasks").click()
    expect(viewer.get_by_text("Only operators can start tasks.")).to_be_visible()
    expect(viewer.get_by_role("button", name="Start Task")).to_have_count(0)
    viewer.get_by_role("button", name="Stop All Axes").click()
    expect(viewer.get_by_text(re.compile(r"^Stop sent at"))).to_be_visible()

    # Signing out ends the sign-in: the sign-in page, and no page of the console without it.
    operator.get_by_role("button", name="Sign out").click()
    expect(operator).to_have_url(f"{auth_console.url}/sign-in")
    expect(operator.get_by_role("status")).to_have_text("You have signed out.")
    operator.goto(auth_console.session_url(session_id))
    expect(operator).to_have_url(sign_in_url(auth_console, session_id))
    assert COOKIE not in {c["name"] for c in operator.context.cookies()}


def test_a_sign_in_ended_elsewhere_returns_to_sign_in_and_back(
    page: Page, auth_console: Console
) -> None:
    session_id = start_move(auth_console)
    page.goto(auth_console.session_url(session_id))
    sign_in(page, "otto")
    expect(page.get_by_role("dialog", name=MOVE)).to_be_visible()
    expect(page.get_by_role("status", name="connection")).to_have_text("connected")

    # The same sign-in is ended from elsewhere (another tab of this browser signs out): the
    # server closes this tab's WebSocket with 4401.
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
    with httpx.Client(base_url=auth_console.url, cookies={COOKIE: cookie}) as other_tab:
        assert other_tab.post("/auth/logout").status_code == 204

    expect(page).to_have_url(sign_in_url(auth_console, session_id))
    expect(page.get_by_role("status")).to_contain_text("Your sign-in has ended")
    sign_in(page, "otto")
    expect(page).to_have_url(auth_console.session_url(session_id))
    page.get_by_role("dialog", name=MOVE).get_by_role("button", name="Yes").click()
    expect(page.get_by_role("status", name="task status")).to_have_text("completed")
