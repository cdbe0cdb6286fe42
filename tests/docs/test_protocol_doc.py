"""docs/protocol.md's example is a real run: replayed against a server, message by message.

The example's placeholders: a string with ``…`` matches any string, and ``8c1f…`` is a named
id, the same value wherever it appears (also inside ``/ws/8c1f…``); bare ``…``, ``[…]`` and
``{…}`` match any value, any array and any object. Everything else must be equal, with the
same keys in the same order and the same JSON types.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.markdown import code_blocks, only
from tests.support.server import run_server
from tests.support.ws import WS

ANY, ANY_ARRAY, ANY_OBJECT = "\0any", "\0array", "\0object"
_NAMED = re.compile(r"(\w*)…")


def parse_example(line: str) -> Any:
    """JSON with the doc's placeholders outside strings turned into sentinel strings."""
    out, i = [], 0
    while i < len(line):
        if line[i] == '"':
            end = i + 1
            while line[end] != '"':
                end += 2 if line[end] == "\\" else 1
            out.append(line[i : end + 1])
            i = end + 1
        elif line.startswith(("{…}", "[…]"), i):
            out.append(json.dumps(ANY_OBJECT if line[i] == "{" else ANY_ARRAY))
            i += 3
        elif line[i] == "…":
            out.append(json.dumps(ANY))
            i += 1
        else:
            out.append(line[i])
            i += 1
    return json.loads("".join(out))


@dataclass
class Matcher:
    """Compares example values with real ones, binding named ids on first sight."""

    ids: dict[str, str] = field(default_factory=dict)

    def match(self, example: Any, real: Any, where: str) -> None:
        if example == ANY:
            return
        if example in (ANY_ARRAY, ANY_OBJECT):
            assert isinstance(real, list if example == ANY_ARRAY else dict), (where, real)
        elif isinstance(example, dict):
            assert isinstance(real, dict), (where, real)
            assert list(example) == list(real), f"{where}: keys {list(example)} != {list(real)}"
            for key, value in example.items():
                self.match(value, real[key], f"{where}.{key}")
        elif isinstance(example, list):
            assert isinstance(real, list) and len(example) == len(real), (where, real)
            for n, (a, b) in enumerate(zip(example, real, strict=True)):
                self.match(a, b, f"{where}[{n}]")
        elif isinstance(example, str) and "…" in example:
            assert isinstance(real, str), (where, real)
            self._match_string(example, real, where)
        else:
            assert type(example) is type(real) and example == real, (
                f"{where}: {example!r} != {real!r}"
            )

    def _match_string(self, example: str, real: str, where: str) -> None:
        parts = _NAMED.split(example)  # literal, name, literal, name, ..., literal
        literals, names = parts[::2], parts[1::2]
        found = re.fullmatch("(.+)".join(re.escape(literal) for literal in literals), real)
        assert found, f"{where}: {real!r} does not look like {example!r}"
        for name, value in zip(names, found.groups(), strict=True):
            if name:  # a bare "…" binds nothing
                assert self.ids.setdefault(name, value) == value, f"{where}: {name}… changed"

    def fill(self, example: Any) -> Any:
        """An example message to send, with its named ids replaced by the bound values."""
        if isinstance(example, dict):
            return {key: self.fill(value) for key, value in example.items()}
        if isinstance(example, str):
            return _NAMED.sub(lambda m: self.ids[m[1]], example)
        return example


@dataclass
class Example:
    request: dict[str, Any]
    response: Any
    ws_path: str
    conversation: list[tuple[str, Any]]  # ("<", received) / (">", sent)


def read_example() -> Example:
    block = only(code_blocks("protocol.md"), "$ websocat").body
    lines = block.replace("\\\n", " ").splitlines()
    assert lines[0].startswith("$ curl") and lines[2].startswith("$ websocat"), lines[:3]
    words = shlex.split(lines[0][2:])
    request = json.loads(words[words.index("-d") + 1])
    ws_path = "/" + lines[2].split("/", 3)[3]
    conversation = [(line[0], parse_example(line[2:])) for line in lines[3:]]
    assert {direction for direction, _ in conversation} == {"<", ">"}
    return Example(request, parse_example(lines[1]), ws_path, conversation)


async def test_the_example_conversation_matches_a_real_run(tmp_path: Path) -> None:
    example = read_example()
    matcher = Matcher()
    with run_server(tmp_path / "data") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            response = await http.post("/tasks", json=example.request)
            assert response.status_code == 202, response.text
            matcher.match(example.response, response.json(), "POST /tasks")
            task_id = response.json()["task_id"]
        # The example connects once the form is open (a replay, then live messages).
        async with await WS.open(server.ws_url, task_id) as first:
            await first.until("request_user_input")
        path = matcher.fill(example.ws_path)
        assert path == f"/ws/{task_id}"
        async with await WS.open(server.ws_url, task_id) as ws:
            for n, (direction, message) in enumerate(example.conversation, start=1):
                if direction == ">":
                    await ws.send(matcher.fill(message))
                else:
                    real = await ws.recv()
                    matcher.match(message, real, f"message {n} ({message.get('type')})")
    assert set(matcher.ids) == {"8c1f", "e4a0", "5b7d"}


def test_placeholders_do_match_only_what_they_say() -> None:
    """The matcher itself: a test that could not fail would prove nothing."""
    example = parse_example('{"id":"ab…","url":"/ws/ab…","ts":"…","v":…,"l":[…],"o":{…},"n":1.0}')
    real: dict[str, Any] = {
        "id": "x1",
        "url": "/ws/x1",
        "ts": "t",
        "v": None,
        "l": [],
        "o": {},
        "n": 1.0,
    }
    Matcher().match(example, real, "ok")
    for key, wrong in [
        ("url", "/ws/x2"),  # a named id must be the same everywhere
        ("l", {}),
        ("o", []),
        ("n", 1),  # 1 is not 1.0 on the wire
    ]:
        try:
            Matcher().match(example, {**real, key: wrong}, key)
        except AssertionError:
            continue
        raise AssertionError(f"{key}={wrong!r} should not match")
    try:
        Matcher().match(example, {**real, "extra": 1}, "extra key")
    except AssertionError:
        pass
    else:
        raise AssertionError("an extra key should not match")
