"""In a real browser: the console works under its CSP; a page on another site can neither
frame it nor make the browser start a task or open a session's WebSocket.

The hostile pages are served by a small HTTP server of the test on another loopback port,
as ``http://localhost:<port>`` (another site than ``http://127.0.0.1:<port>``) and as
``http://127.0.0.1:<port>`` (same site, other origin). Both are on loopback like the
console, so Chromium's own private-network rules do not step in: what stops them is the
server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Console

#: Collects every CSP violation the page reports, from before its first script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


class HostilePages(BaseHTTPRequestHandler):
    """Serves ``page`` (set on the server) at every path."""

    def do_GET(self) -> None:
        body = self.server.page.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostilePages)
    server.page = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def hostile_url(server: ThreadingHTTPServer, name: str, page: str) -> str:
    server.page = page  # type: ignore[attr-defined]
    return f"http://{name}:{server.server_address[1]}/"


def test_the_console_runs_a_task_and_plots_under_its_csp(page: Page, console: Console) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    session_id = console.start(
        "profile_measurement", axis="x", start=-100, stop=100, points=21, speed=10000
    )
    page.goto(console.url)
    expect(page.get_by_role("button", name="Start Task")).to_be_visible()
    page.goto(console.session_url(session_id))
    page.get_by_role("dialog", name=re.compile("^Measure a profile")).get_by_role(
        "button", name="Yes"
    ).click()
    expect(page.get_by_role("status", name="task status")).to_have_text("completed")
    expect(page.get_by_role("figure", name=re.compile("^Plot of "))).to_contain_text("21 points")
    assert page.evaluate("window.__violations") == []


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_another_page_cannot_frame_the_console(
    page: Page, console: Console, hostile: ThreadingHTTPServer, name: str
) -> None:
    decoy = f'<iframe src="{console.url}/" onload="document.body.dataset.loaded = 1"></iframe>'
    page.goto(hostile_url(hostile, name, f"<body>{decoy}</body>"))
    page.wait_for_function("() => document.body.dataset.loaded === '1'")
    framed = page.frames[1]
    assert framed.url.startswith("chrome-error://"), framed.url  # refused, not the console


ATTACKS = """
async ({ url, sessionId }) => {
  const results = {};
  // fetch in no-cors mode: no preflight, a body without a content type.
  const body = new Blob([JSON.stringify({ task_type: "block", queue: true })]);
  await fetch(`${url}/tasks`, { method: "POST", mode: "no-cors", body });
  await fetch(`${url}/hardware/stop`, { method: "POST", mode: "no-cors" });
  // A WebSocket to a live session: it could answer prompts if it opened.
  results.ws = await new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/ws/${sessionId}`);
    ws.onopen = () => { ws.close(); resolve("opened"); };
    ws.onclose = () => resolve("refused");
  });
  return results;
}
"""
FORM = """
<form method="post" enctype="text/plain" action="{action}">
  <input name='{{"task_type": "block", "queue": true, "x": "' value='"}}'>
</form>
"""


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_a_page_on_another_origin_cannot_act_through_the_browser(
    page: Page, console: Console, hostile: ThreadingHTTPServer, name: str
) -> None:
    session_id = console.start("axis_movement", axis="x", mode="relative", distance=100)
    page.goto(hostile_url(hostile, name, FORM.format(action=f"{console.url}/tasks")))
    results = page.evaluate(ATTACKS, {"url": console.url, "sessionId": session_id})
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    tasks = console.http.get("/tasks").json()
    assert [(t["task_id"], t["status"] in {"running", "waiting"}) for t in tasks] == [
        (session_id, True)
    ]  # nothing started, nothing stopped
    assert results == {"ws": "refused"}
    expect(page.locator("body")).to_contain_text("Cross-site request refused")
    console.http.delete(f"/tasks/{session_id}")
