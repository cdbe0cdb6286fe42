"""/docs and /redoc load nothing from another host; /favicon.ico is Interlock's icon."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

JS = ("text/javascript", "application/javascript")


class Resources(HTMLParser):
    """Every URL a page loads by itself: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for attr in ("src", "href"):
            url = found.get(attr)
            if url is not None and tag in ("script", "link", "img"):
                self.urls.append((f"{tag} {found.get('rel') or ''}".strip(), url))


async def page_resources(client: httpx.AsyncClient, path: str) -> list[tuple[str, str]]:
    response = await client.get(path, headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # The browser itself refuses anything from another host (what the bundles might name).
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    # Not even an inline script or style may name another host.
    assert "http://" not in response.text and "https://" not in response.text
    assert not re.search(r"""["'(=]\s*//""", response.text)  # protocol-relative URLs
    parser = Resources()
    parser.feed(response.text)
    return parser.urls


def assert_local(url: str) -> None:
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc and url.startswith("/"), url


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/docs", {"script": JS, "link stylesheet": ("text/css",)}),
        ("/redoc", {"script": JS}),
    ],
)
async def test_docs_pages_load_only_local_assets(
    client: httpx.AsyncClient, path: str, expected: dict[str, tuple[str, ...]]
) -> None:
    resources = await page_resources(client, path)
    kinds = {kind for kind, _ in resources}
    assert set(expected) <= kinds, resources
    assert "link shortcut icon" in kinds
    for kind, url in resources:
        assert_local(url)
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
        content_type = response.headers["content-type"].split(";")[0]
        if kind in expected:
            assert content_type in expected[kind], (url, content_type)


async def test_docs_read_this_servers_openapi(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        assert "/openapi.json" in (await client.get(path)).text
    schema = (await client.get("/openapi.json")).json()
    assert "/tasks" in schema["paths"]
    assert not {"/docs", "/redoc", "/favicon.ico"} & set(schema["paths"])


async def test_only_the_pages_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("favicon.png", "core.py", "..%2Fcore.py", "nothing.js"):
        assert (await client.get(f"/docs/assets/{name}")).status_code == 404, name


async def test_favicon_is_an_icon(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico", headers={"accept": "image/avif,image/*,*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    icon = response.content
    assert icon[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)
    count = int.from_bytes(icon[4:6], "little")
    sizes = {icon[6 + 16 * i] for i in range(count)}
    assert {16, 32} <= sizes
