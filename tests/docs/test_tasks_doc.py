"""docs/tasks.md works as written: its lab package, loaded as it says, runs to completion."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.markdown import code_blocks, doc_text, only
from tests.support.process import ServerProcess
from tests.support.ws import WS

DOC = "tasks.md"


def write_lab_package(root: Path) -> list[Path]:
    """Write every ``# mylab/<file>.py`` block of the doc under ``root``."""
    written = []
    for block in code_blocks(DOC):
        first = block.body.splitlines()[0]
        if block.lang == "python" and re.fullmatch(r"# mylab/\w+\.py", first):
            path = root / first.removeprefix("# ")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
            written.append(path)
    return written


def load_environment() -> dict[str, str]:
    """The variables of the doc's "Load it" command (``PYTHONPATH=$PWD`` is the lab root)."""
    command = only(code_blocks(DOC), "INTERLOCK_TASK_MODULES=").body
    return dict(word.split("=", 1) for word in shlex.split(command) if re.match(r"[A-Z_]+=", word))


def inline_json(text: str, starts: str) -> dict[str, Any]:
    """The inline-code JSON object of the doc that starts with ``starts``."""
    found = re.findall(r"`(\{[^`]*\})`", text)
    matches = [snippet for snippet in found if snippet.startswith(starts)]
    assert len(matches) == 1, (starts, found)
    parsed: dict[str, Any] = json.loads(matches[0])
    return parsed


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[ServerProcess]:
    lab = tmp_path / "lab"
    assert {p.name for p in write_lab_package(lab)} == {"tasks.py", "instruments.py"}
    env = load_environment()
    assert env.pop("PYTHONPATH") == "$PWD"
    assert env == {"INTERLOCK_TASK_MODULES": "mylab.tasks"}
    modules = env["INTERLOCK_TASK_MODULES"]
    with ServerProcess(
        tmp_path / "data", PYTHONPATH=str(lab), INTERLOCK_TASK_MODULES=modules
    ) as server:
        yield server
        server.stop()


async def test_the_plug_in_example_runs_as_written(lab_server: ServerProcess) -> None:
    text = doc_text(DOC)
    curl = only(code_blocks(DOC), '"task_type": "wash_plate"').body
    body = json.loads(re.search(r"-d '([^']*)'", curl)[1])  # type: ignore[index]
    answer_form = inline_json(text, '{"type": "user_input"')
    answer_confirm = inline_json(text, '{"type": "confirm"')
    documented_result = json.loads(
        re.search(r'task_completed \{"result": (\{[^}]*\})', text)[1]  # type: ignore[index]
    )

    async with httpx.AsyncClient(base_url=lab_server.url, timeout=10) as http:
        types = {t["name"]: t for t in (await http.get("/task-types")).json()}
        assert "wash_plate" in types, "GET /task-types lists wash_plate"
        schema = types["wash_plate"]["parameters_schema"]
        assert set(schema["properties"]) == {"cycles", "volume_ul"}
        assert types["wash_plate"]["timeout"] == 3600

        started = await http.post("/tasks", json=body)
        assert started.status_code == 202, started.text
        task_id = started.json()["task_id"]

        async with await WS.open(lab_server.ws_url, task_id) as ws:
            form = await ws.until("request_user_input")
            assert form["prompt"] == "Scan the plate" and form["timeout"] == 300
            await ws.send({**answer_form, "request_id": form["request_id"]})
            confirm = await ws.until("request_confirmation")
            assert confirm["prompt"] == "Dispense 200 µL into plate P-001?"
            assert confirm["details"] == {"cycles": 2, "volume_ul": 200}
            await ws.send({**answer_confirm, "request_id": confirm["request_id"]})
            done = await ws.until("task_completed")

        streamed = [m["content"] for m in ws.received if m["type"] == "stream"]
        assert streamed == ["cycle 1: dispensing", "cycle 2: dispensing"]
        progress = [(m["progress"], m["stage"]) for m in ws.received if m["type"] == "progress"]
        assert progress == [(50.0, "wash"), (100.0, "wash")]
        assert done["result"] == documented_result == {"sample": "P-001", "cycles": 2}
        assert (await http.get(f"/tasks/{task_id}")).json()["status"] == "completed"


async def test_the_file_parameter_example_runs_as_written(tmp_path: Path) -> None:
    from interlock.tasks import builtin_registry
    from tests.support.server import run_server

    example = tmp_path / "count_example.py"
    example.write_text(only(code_blocks(DOC), "class CountParams").body, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("count_example", example)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["count_example"] = module  # pydantic resolves the model's names there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["count_example"]
    registry = builtin_registry()
    registry.task("count_sequences", params=module.CountParams)(module.count_sequences)
    upload_call, submit_call = only(code_blocks(DOC), "-F file=@reads.fasta").body.split("\n# -> ")
    assert "/uploads" in upload_call and '"task_type": "count_sequences"' in submit_call
    with run_server(tmp_path / "data", registry=registry) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            stored = await http.post(
                "/uploads", files={"file": ("reads.fasta", b">a\nACGT\n>b\nGGCC\n")}
            )
            assert stored.status_code == 201
            assert set(stored.json()) == {"upload_id", "filename", "size", "sha256"}
            wrong = await http.post("/uploads", files={"file": ("reads.txt", b">a\n")})
            for upload, status in ((wrong, 422), (stored, 202)):
                r = await http.post(
                    "/tasks",
                    json={
                        "task_type": "count_sequences",
                        "parameters": {"sequences": upload.json()["upload_id"]},
                    },
                )
                assert r.status_code == status, r.text
            async with await WS.open(server.ws_url, r.json()["task_id"]) as ws:
                done = await ws.until("task_completed")
    assert done["result"] == {"file": "reads.fasta", "records": 2}
