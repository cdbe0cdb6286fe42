"""People read validation messages as written: pydantic's "Value error, " prefix is gone from
parameter errors, request-body 422s and form answers (REST and WebSocket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from interlock.forms import error_message, field_errors
from interlock.runtime import TaskContext
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


class Checked(BaseModel):
    """Parameters and a form whose validator raises ValueError (pydantic's "Value error, ")."""

    code: str = Field("ok", description="Any text but 'bad'")

    @field_validator("code")
    @classmethod
    def _not_bad(cls, value: str) -> str:
        if value == "bad":
            raise ValueError("code must not be 'bad'")
        return value


async def checked_form(ctx: TaskContext[Checked]) -> dict[str, Any]:
    return await ctx.ask(Checked, prompt="A code")


@pytest.fixture
def checked_server(tmp_path: Path) -> Iterator[LiveServer]:
    registry = make_registry()
    registry.task("checked_form", params=Checked)(checked_form)
    with run_server(tmp_path / "data", registry=registry) as live:
        yield live


def test_field_errors_drop_the_python_exception_prefix() -> None:
    with pytest.raises(ValidationError) as caught:
        Checked.model_validate({"code": "bad"})
    [raw] = caught.value.errors()
    assert raw["msg"] == "Value error, code must not be 'bad'"  # what pydantic says
    assert error_message(raw) == "code must not be 'bad'"
    assert field_errors(caught.value) == [{"field": "code", "message": "code must not be 'bad'"}]
    # Other messages are left as they are, even when they start alike.
    assert error_message({"type": "string_type", "msg": "Value error, x"}) == "Value error, x"


async def test_parameter_errors_have_no_value_error_prefix(checked_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=checked_server.url) as http:
        body = {"task_type": "checked_form", "parameters": {"code": "bad"}}
        r = await http.post("/tasks", json=body)
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "parameters", "code"]
    assert error["msg"] == "code must not be 'bad'"


async def test_request_body_errors_have_no_value_error_prefix(client: httpx.AsyncClient) -> None:
    # AnswerBody's own validator raises ValueError; FastAPI reports it as a 422.
    r = await client.post(
        "/tasks/any/answer", json={"request_id": "r", "value": True, "values": {}}
    )
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["msg"] == "send exactly one of 'value' (confirmation) or 'values' (form)"
    assert error["type"] == "value_error" and error["loc"] == ["body"]


async def test_form_answer_errors_have_no_value_error_prefix(checked_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=checked_server.url) as http:
        task_id = (await http.post("/tasks", json={"task_type": "checked_form"})).json()["task_id"]
        async with await WS.open(checked_server.ws_url, task_id) as ws:
            prompt = await ws.until("request_user_input")
            r = await http.post(
                f"/tasks/{task_id}/answer",
                json={"request_id": prompt["request_id"], "values": {"code": "bad"}},
            )
            assert r.status_code == 422
            assert r.json()["errors"] == [{"field": "code", "message": "code must not be 'bad'"}]
            await ws.send({"type": "user_input", "values": {"code": "bad"}})
            error = await ws.until("error")
            assert error["errors"] == [{"field": "code", "message": "code must not be 'bad'"}]
            await ws.send({"type": "user_input", "values": {"code": "fine"}})
            done = await ws.until("task_completed")
    assert done["result"] == {"code": "fine"}
