"""The operator is alerted, in a real browser: the tab title and every page's header name the
waiting prompts, a desktop notification announces each new one, and a prompt never takes
focus from a person typing elsewhere."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import Console

BASE_TITLE = "Interlock console"
MOVE = re.compile(r"^Move x from 0 to 100 µm")


def start_move(console: Console, **extra: Any) -> str:
    """An axis move: it asks its hazard prompt at once."""
    body = {
        "task_type": "axis_movement",
        "parameters": {"axis": "x", "mode": "relative", "distance": 100, "speed": 1000},
        **extra,
    }
    response = console.http.post("/tasks", json=body)
    assert response.status_code == 202, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def cancel(console: Console, session_id: str) -> None:
    assert console.http.delete(f"/tasks/{session_id}").status_code == 200


def waiting_prompts(page: Page) -> Any:
    return page.get_by_role("navigation", name="Waiting prompts")


def test_title_and_header_name_a_prompt_opened_in_another_session(
    page: Page, console: Console
) -> None:
    finished = console.start("dummy_short", duration=0, steps=1)
    page.goto(console.session_url(finished))
    expect(page.get_by_role("status", name="task status")).to_have_text("completed")
    header = waiting_prompts(page)
    expect(header.get_by_role("status")).to_have_text("No prompts waiting")
    expect(page).to_have_title(BASE_TITLE)

    other = start_move(console)
    expect(page).to_have_title(re.compile(r"^\(1\) Waiting: Move x from 0 to 100 µm"))
    expect(header.get_by_role("status")).to_have_text("1 waiting")
    link = header.get_by_role("link", name=re.compile(r"^Axis movement: Move x from 0"))
    link.click()
    expect(page).to_have_url(console.session_url(other))
    expect(page.get_by_role("dialog", name=MOVE)).to_be_visible()

    cancel(console, other)
    expect(page).to_have_title(BASE_TITLE)
    expect(header.get_by_role("status")).to_have_text("No prompts waiting")


# Records what the console does with the Notification API; the permission starts undecided
# (the browser context grants it, so the real constructor works once it is asked for).
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  let permission = "default";
  window.__permissionRequests = 0;
  window.__notifications = [];
  class Recorded extends Real {
    static get permission() { return permission; }
    static async requestPermission() {
      window.__permissionRequests += 1;
      permission = await Real.requestPermission();
      return permission;
    }
    constructor(title, options) {
      super(title, options);
      window.__notifications.push(this);
    }
  }
  window.Notification = Recorded;
})();
"""


def test_notifications_are_asked_for_by_a_button_and_shown_per_new_prompt(
    page: Page, console: Console
) -> None:
    context: BrowserContext = page.context
    context.grant_permissions(["notifications"], origin=console.url)
    context.add_init_script(NOTIFICATION_SPY)
    page.goto(console.url)
    enable = page.get_by_role("button", name="Enable notifications")
    expect(enable).to_be_visible()
    assert page.evaluate("window.__permissionRequests") == 0  # never on load

    enable.click()
    expect(page.get_by_text("Notifications on")).to_be_visible()
    assert page.evaluate("window.__permissionRequests") == 1

    session_id = start_move(console)
    page.wait_for_function("() => window.__notifications.length === 1")  # no eval: CSP
    shown = page.evaluate(
        "(({title, body, tag}) => ({title, body, tag}))(window.__notifications[0])"
    )
    assert shown["title"] == "Waiting: Axis movement"
    assert MOVE.match(shown["body"]), shown
    page.evaluate("window.__notifications[0].onclick()")
    expect(page).to_have_url(console.session_url(session_id))
    expect(page.get_by_role("dialog", name=MOVE)).to_be_visible()
    assert page.evaluate("window.__notifications.length") == 1


def test_a_prompt_never_takes_focus_from_a_person_typing(page: Page, console: Console) -> None:
    # The move waits in the queue behind a running task, so its prompt opens while the
    # person is already typing.
    blocker = console.start("dummy_long", duration=60, steps=60)
    queued = start_move(console, queue=True)
    page.goto(console.session_url(queued))
    expect(page.get_by_role("status", name="task status")).to_have_text("queued")
    page.evaluate(
        """() => {
          const notes = document.createElement("textarea");
          notes.setAttribute("aria-label", "Lab notes");
          document.body.append(notes);
        }"""
    )
    notes = page.get_by_role("textbox", name="Lab notes")
    notes.click()
    page.keyboard.type("Fibre at 0.9")

    cancel(console, blocker)
    hazard = page.get_by_role("dialog", name=MOVE)
    expect(hazard).to_be_visible()
    page.keyboard.type("3")
    page.keyboard.press("Enter")

    expect(notes).to_be_focused()
    expect(notes).to_have_value("Fibre at 0.93\n")
    expect(hazard.get_by_role("button", name="Yes")).not_to_be_focused()
    expect(page.get_by_role("status", name="task status")).to_have_text("waiting")
    assert console.http.get(f"/tasks/{queued}").json()["pending_request"] is not None
