"""Browser tests: a real ``interlock serve`` in a subprocess, driven by Debian's Chromium.

The console must be built first (``make frontend``); Chromium must be at /usr/bin/chromium
(``make chromium``). Neither is skipped when missing: the tests fail and say why.
Set INTERLOCK_SCREENSHOTS=1 to (re)write docs/screenshots/*.png.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from interlock.auth import Role
from tests.support.auth import People, bearer, seed
from tests.support.process import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "backend" / "interlock" / "static" / "index.html"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Console:
    """A running server: where it is, and a REST client for setting up and checking."""

    url: str
    http: httpx.Client
    #: With ``INTERLOCK_AUTH=true``: vera (viewer), otto (operator), ada (admin); ``http``
    #: then acts as ada.
    people: People | None = field(default=None)

    def start(self, task_type: str, **parameters: Any) -> str:
        """Start a task over REST; returns its session id."""
        response = self.http.post("/tasks", json={"task_type": task_type, "parameters": parameters})
        assert response.status_code == 202, response.text
        session_id: str = response.json()["session_id"]
        return session_id

    def session_url(self, session_id: str) -> str:
        return f"{self.url}/sessions/{session_id}"


@contextmanager
def _serve(tmp_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``python -m interlock serve`` on a port of its choosing with ``tmp_path/data``; yields
    its URL."""
    if not STATIC_INDEX.is_file():
        pytest.fail("the console is not built: run `make frontend` (npm run build in frontend/)")
    with ServerProcess(tmp_path / "data", env=env) as server:
        yield server.url
        server.stop()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """``python -m interlock serve`` on a free port with a fresh data directory."""
    with _serve(tmp_path) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield Console(url, http)


@pytest.fixture
def auth_console(tmp_path: Path) -> Iterator[Console]:
    """As ``console``, with ``INTERLOCK_AUTH=true`` and one person per role (password
    ``tests.support.auth.PASSWORD``) seeded in the data directory before the server starts."""
    data = tmp_path / "data"
    data.mkdir()
    # In a thread of its own: this thread's event loop belongs to Playwright.
    with ThreadPoolExecutor(1) as pool:
        people = pool.submit(asyncio.run, seed(data)).result()
    headers = bearer(people.tokens[Role.ADMIN])
    with (
        _serve(tmp_path, {"INTERLOCK_AUTH": "true"}) as url,
        httpx.Client(base_url=url, timeout=10, headers=headers) as http,
    ):
        yield Console(url, http, people)


# Package scope, not session: the sync API runs an event loop that must be gone before the
# asyncio tests in other packages start.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    """Opens pages in separate browser contexts (separate tabs' worth of state)."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Any) -> Page:
    opened: Page = new_page()
    return opened


def screenshot(target: Page | Locator, name: str) -> None:
    """Save docs/screenshots/<name>.png, only when INTERLOCK_SCREENSHOTS=1."""
    if os.environ.get("INTERLOCK_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if isinstance(target, Page):
        target.screenshot(path=path, full_page=True, animations="disabled")
    else:
        target.screenshot(path=path, animations="disabled")
