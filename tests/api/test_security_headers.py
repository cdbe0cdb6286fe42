"""Every response says how the browser may use it: CSP (no framing, own scripts only),
nosniff, same-origin referrers; the API docs keep their own CSP, also without framing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interlock.security_headers import CONSOLE_CSP
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry

HTML = {"Accept": "text/html"}


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[LiveServer]:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>console</title>")
    (static / "assets" / "app.js").write_text("console.log('hi')")
    with run_server(tmp_path / "data", registry=make_registry(), static_dir=static) as server:
        yield server


def csp_directives(value: str) -> dict[str, str]:
    parts = (d.strip().split(" ", 1) for d in value.split(";") if d.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def assert_hardened(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["referrer-policy"] == "same-origin", response.url
    assert headers["x-frame-options"] == "DENY", response.url
    assert csp_directives(headers["content-security-policy"])["frame-ancestors"] == "'none'"


async def test_console_pages_and_assets_carry_the_console_csp(console_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as http:
        for path, headers in (("/", HTML), ("/sessions/abc", HTML), ("/assets/app.js", {})):
            r = await http.get(path, headers=headers)
            assert r.status_code == 200, (path, r.text)
            assert_hardened(r)
            csp = csp_directives(r.headers["content-security-policy"])
            assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
            assert "unsafe-inline" not in r.headers["content-security-policy"]
            assert r.headers["content-security-policy"] == CONSOLE_CSP


async def test_json_answers_and_refusals_carry_them_too(console_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as http:
        for r in (
            await http.get("/tasks"),
            await http.get("/health"),
            await http.get("/tasks/nope"),
            await http.post("/tasks", content=b"x", headers={"Content-Type": "text/plain"}),
            await http.post("/tasks", json={}, headers={"Origin": "http://evil.example"}),
            await http.get("/tasks", headers={"Host": "evil.example"}),
        ):
            assert_hardened(r)


async def test_the_api_docs_keep_their_own_csp_without_framing(
    console_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as http:
        for path in ("/docs", "/redoc"):
            r = await http.get(path)
            assert r.status_code == 200
            assert_hardened(r)
            csp = csp_directives(r.headers["content-security-policy"])
            assert "'unsafe-inline'" in csp["script-src"]  # what the vendor pages need
