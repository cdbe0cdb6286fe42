"""/docs and /redoc render their operation lists with every host but the server blocked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from interlock import __version__
from tests.support.process import ServerProcess


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``interlock serve`` in a subprocess; the API docs need no built console."""
    with ServerProcess(tmp_path / "data") as server:
        yield server
        server.stop()


@pytest.fixture
def offline_page(page: Page, api_server: ServerProcess) -> Iterator[tuple[Page, list[str]]]:
    """A page that can reach the server only; yields it with the list of refused URLs."""
    refused: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(f"{api_server.url}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_the_server)
    yield page, refused
    assert refused == [], f"the page reached for other hosts: {refused}"


def test_swagger_ui_lists_the_operations_offline(
    offline_page: tuple[Page, list[str]], api_server: ServerProcess
) -> None:
    page, _ = offline_page
    page.goto(f"{api_server.url}/docs")
    expect(page).to_have_title("Interlock - Swagger UI")
    expect(page.get_by_role("heading", name=re.compile(r"^Interlock"))).to_be_visible()
    create = page.get_by_role("button", name=re.compile(r"^POST\s*\/tasks\s*Create Task$"))
    expect(create).to_be_visible()
    create.click()  # the operation opens: its parameters and responses come from the schema
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()


def test_redoc_lists_the_operations_offline(
    offline_page: tuple[Page, list[str]], api_server: ServerProcess
) -> None:
    page, _ = offline_page
    page.goto(f"{api_server.url}/redoc")
    expect(page).to_have_title("Interlock - ReDoc")
    expect(page.get_by_role("heading", name=f"Interlock ({__version__})")).to_be_visible()
    expect(page.get_by_role("menuitem", name="tasks", exact=True)).to_be_visible()
    operation = page.get_by_role("heading", name=re.compile(r"create_task_tasks_post Create Task$"))
    operation.scroll_into_view_if_needed()
    expect(operation).to_be_visible()
