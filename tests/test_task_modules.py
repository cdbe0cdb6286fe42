"""INTERLOCK_TASK_MODULES adds task types from the lab's own modules."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from interlock.app import create_app
from interlock.settings import Settings
from tests.support.server import run_server
from tests.support.ws import WS

MODULE = textwrap.dedent(
    '''
    from pydantic import BaseModel
    from interlock.runtime import TaskContext
    from interlock.tasks import TaskRegistry


    class Params(BaseModel):
        name: str = "world"


    async def greet(ctx: TaskContext[Params]) -> dict:
        """Say hello after a confirmation."""
        ok = await ctx.confirm(f"Greet {ctx.params.name}?")
        return {"greeting": f"hello {ctx.params.name}" if ok else None}


    def register(registry: TaskRegistry) -> None:
        registry.task("greet", params=Params)(greet)
    '''
)


@pytest.fixture
def lab_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pkg = tmp_path / "labmods"
    pkg.mkdir()
    (pkg / "mylab_tasks.py").write_text(MODULE)
    (pkg / "not_a_plugin.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(pkg))
    yield "mylab_tasks"
    for name in ("mylab_tasks", "not_a_plugin"):
        sys.modules.pop(name, None)


async def test_task_module_registers_a_runnable_task(tmp_path: Path, lab_module: str) -> None:
    with run_server(tmp_path / "d", task_modules=[lab_module]) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            names = [t["name"] for t in (await client.get("/task-types")).json()]
            assert "greet" in names and "interactive_demo" in names
            r = await client.post(
                "/tasks", json={"task_type": "greet", "parameters": {"name": "lab"}}
            )
            sid = r.json()["task_id"]
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.until("request_confirmation")
                await ws.send({"type": "confirm", "value": True})
                done = await ws.until("task_completed")
    assert done["result"] == {"greeting": "hello lab"}


def test_a_module_without_register_fails_at_start(tmp_path: Path, lab_module: str) -> None:
    with pytest.raises(TypeError, match="register"):
        create_app(Settings(data_dir=tmp_path, task_modules=["not_a_plugin"]))
    with pytest.raises(ModuleNotFoundError):
        create_app(Settings(data_dir=tmp_path, task_modules=["no_such_module_here"]))
