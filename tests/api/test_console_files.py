"""The built console is served from its directory: assets, index.html for the browser's
client-side routes, and nothing outside the directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import run_server

HTML = {"accept": "text/html,application/xhtml+xml"}
INDEX = "<!doctype html><title>Interlock</title>"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text(INDEX)
    (static / "assets" / "app.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("not for the web")
    with run_server(tmp_path / "data", static_dir=static) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            yield client


async def test_assets_are_served_with_their_type(console: httpx.AsyncClient) -> None:
    r = await console.get("/assets/app.js")
    assert r.status_code == 200 and r.text == "console.log('hi')"
    assert "javascript" in r.headers["content-type"]


async def test_a_browser_gets_index_html_for_a_client_side_route(
    console: httpx.AsyncClient,
) -> None:
    r = await console.get("/sessions/abc", headers=HTML)
    assert r.status_code == 200 and r.text == INDEX


async def test_programs_get_404_for_unknown_paths(console: httpx.AsyncClient) -> None:
    assert (await console.get("/sessions/abc")).status_code == 404
    assert (await console.get("/assets/missing.js")).status_code == 404


async def test_nothing_outside_the_console_directory_is_served(
    console: httpx.AsyncClient,
) -> None:
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"):
        r = await console.get(path)
        assert r.status_code == 404 and "not for the web" not in r.text, path


async def test_the_root_is_the_console_for_browsers_and_health_for_programs(
    console: httpx.AsyncClient,
) -> None:
    page = await console.get("/", headers=HTML)
    assert page.status_code == 200 and page.text == INDEX
    health = await console.get("/")
    assert health.status_code == 200 and health.json()["status"] == "ok"


async def test_without_a_built_console_browsers_get_health_and_404(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", static_dir=tmp_path / "not-built") as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/", headers=HTML)).json()["status"] == "ok"
            assert (await client.get("/sessions/abc", headers=HTML)).status_code == 404
