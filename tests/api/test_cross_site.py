"""Cross-site requests, DNS rebinding and non-JSON bodies are refused, with auth off and on.

Each test plays what a hostile page can make the operator's browser send: a form posting
``text/plain`` (no CORS preflight), a ``fetch`` or a WebSocket from a foreign ``Origin``, a
request to a rebound name (``Host: evil.example``). Each is refused before it has any effect:
no task is created, none is cancelled, no axis is stopped. With auth on, the request also
carries a valid operator's credential: a credential never makes a cross-site request good.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support.auth import authenticate_operator
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

EVIL = "http://evil.example"
#: What a cross-site form with ``enctype="text/plain"`` sends: JSON-looking text.
FORM_TEXT = b'{"task_type": "block", "parameters": {}, "x": "="}'


@dataclass
class Site:
    """A running server, a client for it, and the credential headers (empty: auth off)."""

    server: LiveServer
    http: httpx.AsyncClient
    auth: dict[str, str]

    @property
    def own_origin(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    async def tasks(self) -> list[dict[str, Any]]:
        r = await self.http.get("/tasks")
        assert r.status_code == 200, r.text
        tasks: list[dict[str, Any]] = r.json()
        return tasks

    async def start(self, task_type: str = "block") -> str:
        r = await self.http.post("/tasks", json={"task_type": task_type, "parameters": {}})
        assert r.status_code == 202, r.text
        task_id: str = r.json()["task_id"]
        return task_id

    async def prompt(self) -> tuple[str, str]:
        """Start a task that asks for a confirmation; its id and the open request's id."""
        sid = await self.start("confirm_once")
        async with await WS.open(self.server.ws_url, sid, additional_headers=self.auth) as ws:
            request = await ws.until("request_confirmation")
        return sid, request["request_id"]

    async def still_open(self, sid: str, request_id: str) -> bool:
        task = (await self.http.get(f"/tasks/{sid}")).json()
        pending = task["pending_request"]
        return bool(task["status"] == "waiting" and pending["request_id"] == request_id)

    async def ws_refusal(self, session_id: str, host: str | None = None, **headers: str) -> Any:
        """Open a WebSocket with these headers (``host``: the name in the URL, sent as
        ``Host``); returns the HTTP response that refused the handshake."""
        port = self.server.port
        url = f"ws://{host or self.server.host}:{port}/ws/{session_id}"
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                url,
                host=self.server.host,
                port=port,
                proxy=None,
                additional_headers={**self.auth, **headers},
            )
        return refused.value.response


@pytest.fixture(params=["auth-off", "auth-on"])
def mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def live(tmp_path: Path, mode: str) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    data = tmp_path / "data"
    headers = authenticate_operator(data) if mode == "auth-on" else {}
    with run_server(data, registry=make_registry(), auth=mode == "auth-on") as s:
        yield s, headers


@pytest.fixture
async def site(live: tuple[LiveServer, dict[str, str]]) -> AsyncIterator[Site]:
    server, auth = live
    async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=10) as http:
        yield Site(server, http, auth)
        for task in await Site(server, http, auth).tasks():
            if task["status"] in {"queued", "running", "waiting"}:
                await http.delete(f"/tasks/{task['task_id']}")


# --- non-JSON bodies: 415 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"],
)
async def test_a_text_plain_post_is_refused_with_415(site: Site, content_type: str) -> None:
    # Same origin, so only the content type is wrong: a form on a page of this very server
    # would be refused too. And without Origin, as a script would send it.
    for origin in ({"Origin": site.own_origin}, {}):
        headers = {"Content-Type": content_type, **origin}
        r = await site.http.post("/tasks", content=FORM_TEXT, headers=headers)
        assert r.status_code == 415, r.text
        assert r.json()["detail"].endswith("send application/json"), r.text
    assert await site.tasks() == []


async def test_an_answer_posted_as_text_plain_is_refused(site: Site) -> None:
    sid, rid = await site.prompt()
    body = f'{{"request_id": "{rid}", "value": true}}'.encode()
    r = await site.http.post(
        f"/tasks/{sid}/answer", content=body, headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 415, r.text
    assert await site.still_open(sid, rid)


async def test_a_body_without_a_content_type_is_refused(site: Site) -> None:
    r = await site.http.post("/tasks", content=FORM_TEXT)
    assert r.status_code == 415, r.text
    assert r.json()["detail"] == "Unsupported media type (none): send application/json"
    assert await site.tasks() == []


async def test_bodiless_posts_need_no_content_type(site: Site) -> None:
    assert (await site.http.post("/hardware/stop")).status_code == 200
    r = await site.http.post("/start-task")  # its body is optional
    assert r.status_code == 200, r.text
    r = await site.http.post(f"/cancel-task/{r.json()['session_id']}")
    assert r.status_code == 200, r.text


async def test_json_with_parameters_and_json_suffix_types_are_accepted(site: Site) -> None:
    body = b'{"task_type": "block", "parameters": {}}'
    for ctype in ("application/json; charset=utf-8", "Application/JSON", "application/x+json"):
        r = await site.http.post("/tasks", content=body, headers={"Content-Type": ctype})
        assert r.status_code == 202, (ctype, r.text)
        await site.http.delete(f"/tasks/{r.json()['task_id']}")


# --- foreign origins: 403 ---------------------------------------------------------------

CROSS_SITE = [
    pytest.param({"Origin": EVIL}, id="foreign-origin"),
    pytest.param({"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}, id="cross-site-fetch"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="cross-site-without-origin"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="same-site-without-origin"),
    pytest.param({"Origin": "null"}, id="opaque-origin"),
    pytest.param({"Origin": "http://127.0.0.1:1"}, id="same-host-other-port"),
    pytest.param({"Origin": "http://localhost"}, id="localhost-other-port"),
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_a_foreign_origin_is_refused_with_403(site: Site, headers: dict[str, str]) -> None:
    r = await site.http.post("/tasks", json={"task_type": "block"}, headers=headers)
    assert r.status_code == 403, r.text
    assert r.json()["detail"].startswith(("Cross-site request refused", "Request refused"))
    assert await site.tasks() == []


async def test_a_foreign_origin_cannot_answer_cancel_or_stop(site: Site) -> None:
    sid, rid = await site.prompt()
    foreign = {"Origin": EVIL}
    answer = {"request_id": rid, "value": True}
    r = await site.http.post(f"/tasks/{sid}/answer", json=answer, headers=foreign)
    assert r.status_code == 403, r.text
    assert (await site.http.delete(f"/tasks/{sid}", headers=foreign)).status_code == 403
    assert (await site.http.post(f"/cancel-task/{sid}", headers=foreign)).status_code == 403
    assert (await site.http.post("/hardware/stop", headers=foreign)).status_code == 403
    assert await site.still_open(sid, rid)


async def test_a_websocket_from_a_foreign_origin_is_refused(site: Site) -> None:
    sid = await site.start()
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        response = await site.ws_refusal(sid, **headers)
        assert response.status_code == 403, headers
        assert b"refused" in response.body
    async with await WS.open(
        site.server.ws_url, sid, origin=site.own_origin, additional_headers=site.auth
    ) as ws:
        await ws.replay()


async def test_reads_from_a_foreign_origin_are_answered_without_cors(site: Site) -> None:
    # Not refused (a GET changes nothing), but the browser keeps the answer from the page.
    r = await site.http.get("/tasks", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


async def test_own_pages_and_scripts_may_change_state(site: Site) -> None:
    for headers in (
        {"Origin": site.own_origin, "Sec-Fetch-Site": "same-origin"},
        {"Origin": site.own_origin},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar: no Origin
        {},  # curl, a script
    ):
        r = await site.http.post("/tasks", json={"task_type": "block"}, headers=headers)
        assert r.status_code == 202, (headers, r.text)
        await site.http.delete(f"/tasks/{r.json()['task_id']}")


# --- DNS rebinding: 400 -----------------------------------------------------------------


async def test_a_rebinding_host_is_refused_with_400(site: Site) -> None:
    port = site.server.port
    rebound = f"evil.example:{port}"
    # The rebound page's own origin matches its Host: only the Host check stops it.
    same = {"Host": rebound, "Origin": f"http://{rebound}"}
    r = await site.http.post("/tasks", json={"task_type": "block"}, headers=same)
    assert r.status_code == 400, r.text
    assert r.json()["detail"].startswith("Unknown host 'evil.example:")
    assert "INTERLOCK_ALLOWED_HOSTS" in r.json()["detail"]
    for path in ("/tasks", "/hardware", "/health", "/"):
        r = await site.http.get(path, headers={"Host": rebound, "Accept": "text/html"})
        assert r.status_code == 400, (path, r.text)
    assert await site.tasks() == []
    sid = await site.start()
    response = await site.ws_refusal(sid, host="evil.example", Origin=f"http://{rebound}")
    assert response.status_code == 400
    assert b"Unknown host" in response.body


@pytest.mark.parametrize("host", ["", "evil.example", "127.0.0.1.evil.example", "[::1", "a b"])
async def test_unknown_or_malformed_hosts_are_refused(site: Site, host: str) -> None:
    r = await site.http.get("/tasks", headers={"Host": host})
    assert r.status_code == 400, r.text


async def test_the_names_of_this_machine_are_answered(site: Site) -> None:
    port = site.server.port
    for host in ("localhost", f"localhost:{port}", f"LOCALHOST:{port}", "localhost.",
                 f"127.0.0.1:{port}", "[::1]", f"[::1]:{port}"):  # fmt: skip
        r = await site.http.get("/tasks", headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
    # The console at http://localhost:<port> posts with its own origin.
    own = {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"}
    r = await site.http.post("/tasks", json={"task_type": "block"}, headers=own)
    assert r.status_code == 202, r.text


# --- configured hosts and origins, CORS ---------------------------------------------------


async def test_configured_hosts_and_origins_are_trusted(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "d",
        registry=make_registry(),
        allowed_hosts=["interlock.lab.example"],
        allowed_origins=["https://dash.lab.example"],
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.get("/tasks", headers={"Host": "Interlock.Lab.Example"})
            assert r.status_code == 200
            dash = {"Origin": "https://dash.lab.example", "Sec-Fetch-Site": "cross-site"}
            r = await http.post("/tasks", json={"task_type": "block"}, headers=dash)
            assert r.status_code == 202, r.text
            assert r.headers["access-control-allow-origin"] == "https://dash.lab.example"
            assert r.headers["access-control-allow-credentials"] == "true"
            await http.delete(f"/tasks/{r.json()['task_id']}")
            preflight = {
                "Origin": "https://dash.lab.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            }
            r = await http.options("/tasks", headers=preflight)
            assert r.status_code == 200, r.text
            assert "POST" in r.headers["access-control-allow-methods"]
            other = {**preflight, "Origin": "https://other.lab.example"}
            r = await http.options("/tasks", headers=other)
            assert "access-control-allow-origin" not in r.headers
            r = await http.post(
                "/tasks", json={"task_type": "block"}, headers={"Origin": other["Origin"]}
            )
            assert r.status_code == 403


async def test_any_origin_may_read_but_never_change_state(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "d", registry=make_registry(), allowed_origins=["*", "https://dash.example"]
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.get("/tasks", headers={"Origin": EVIL, "Cookie": "s=1"})
            assert r.status_code == 200
            assert "access-control-allow-credentials" not in r.headers
            assert r.headers["access-control-allow-origin"] in {"*", EVIL}
            r = await http.post("/tasks", json={"task_type": "block"}, headers={"Origin": EVIL})
            assert r.status_code == 403
            r = await http.get("/tasks", headers={"Origin": "https://dash.example"})
            assert r.headers["access-control-allow-origin"] == "https://dash.example"
            assert r.headers["access-control-allow-credentials"] == "true"
            sid = (await http.post("/tasks", json={"task_type": "block"})).json()["task_id"]
            with pytest.raises(InvalidStatus) as refused:
                await WS.open(server.ws_url, sid, origin=EVIL)
            assert refused.value.response.status_code == 403
            await http.delete(f"/tasks/{sid}")


async def test_without_allowed_origins_there_are_no_cors_headers(site: Site) -> None:
    headers = {"Origin": EVIL, "Access-Control-Request-Method": "GET"}
    r = await site.http.options("/tasks", headers=headers)
    assert "access-control-allow-origin" not in r.headers
