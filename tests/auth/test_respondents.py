"""``POST /tasks`` with ``respondents``: checked against the users, kept with the task, and
refused (not ignored) with authentication off. Who may then answer: test_role_matrix.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.auth import Role
from interlock.auth.respondents import AUTH_OFF, MAX_RESPONDENTS, may_answer, refusal
from interlock.runtime import TaskContext
from interlock.tasks.registry import TaskRegistry
from tests.support.auth import People
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry

ONLY_OPERATORS = "only operators and admins answer"


async def submit(
    http: httpx.AsyncClient, respondents: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"task_type": "confirm_once", "respondents": respondents}
    return await http.post("/tasks", json=body, headers=headers or {})


@pytest.mark.parametrize(
    ("respondents", "errors"),
    [
        (["otto", "nobody"], [(["body", "respondents", 1], "no user named 'nobody'")]),
        (
            ["vera", "ada", "Otto"],
            [
                (["body", "respondents", 0], f"'vera' is a viewer: {ONLY_OPERATORS}"),
                (["body", "respondents", 2], "no user named 'Otto'"),  # names are exact
            ],
        ),
        (
            [],
            [
                (
                    ["body", "respondents"],
                    "name at least one user, or leave respondents out (anyone may answer)",
                )
            ],
        ),
    ],
    ids=["unknown user", "a viewer and a name in the wrong case", "empty"],
)
async def test_respondents_that_cannot_answer_are_a_422_on_the_field(
    auth_server: LiveServer,
    people: People,
    anon: httpx.AsyncClient,
    respondents: list[str],
    errors: list[tuple[list[str | int], str]],
) -> None:
    operator = people.headers(Role.OPERATOR)
    r = await submit(anon, respondents, operator)
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["msg"]) for e in r.json()["detail"]] == errors
    assert (await anon.get("/tasks", headers=operator)).json() == []  # nothing was started


async def test_too_many_respondents_are_refused_before_any_lookup(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    r = await submit(anon, ["otto"] * (MAX_RESPONDENTS + 1), people.headers(Role.OPERATOR))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "respondents"]


async def test_respondents_are_kept_once_each_in_the_order_given(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    operator = people.headers(Role.OPERATOR)
    r = await submit(anon, ["otto", "ada", "otto"], operator)
    assert r.status_code == 202, r.text
    task = (await anon.get(f"/tasks/{r.json()['task_id']}", headers=operator)).json()
    assert task["respondents"] == ["otto", "ada"]
    await anon.delete(f"/tasks/{task['task_id']}", headers=operator)


async def test_without_respondents_any_operator_may_answer(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    operator = people.headers(Role.OPERATOR)
    for respondents in (None, "absent"):
        body: dict[str, Any] = {"task_type": "confirm_once"}
        if respondents is None:
            body["respondents"] = None
        r = await anon.post("/tasks", json=body, headers=operator)
        assert r.status_code == 202, r.text
        task = (await anon.get(f"/tasks/{r.json()['task_id']}", headers=operator)).json()
        assert task["respondents"] is None
        await anon.delete(f"/tasks/{task['task_id']}", headers=operator)


async def test_with_authentication_off_respondents_are_refused_not_ignored(
    tmp_path: Path,
) -> None:
    """Nobody is identified, so nobody could be told apart: a task that claimed to be
    reserved would be open to everyone. Leaving the field out (or null) works as always."""
    with run_server(tmp_path / "d", registry=make_registry()) as live:
        async with httpx.AsyncClient(base_url=live.url) as http:
            r = await submit(http, ["ana"])
            assert r.status_code == 422
            assert r.json()["detail"] == [
                {"loc": ["body", "respondents"], "msg": AUTH_OFF, "type": "value_error"}
            ]
            assert "INTERLOCK_AUTH=true" in AUTH_OFF
            assert (await http.get("/tasks")).json() == []
            r = await submit(http, None)
            assert r.status_code == 202, r.text
            await http.delete(f"/tasks/{r.json()['task_id']}")


def test_a_task_type_needs_at_least_the_operator_role() -> None:
    async def peek(ctx: TaskContext[Any]) -> None:
        return None

    registry = TaskRegistry()
    with pytest.raises(ValueError, match="'peek': starting a task needs at least operator"):
        registry.task("peek", role=Role.VIEWER)(peek)
    registry.task("look")(peek)
    assert registry.get("look").role is Role.OPERATOR  # the default


def test_who_may_answer_a_task_and_what_the_others_are_told() -> None:
    assert may_answer(None, None, None)  # no respondents: whoever may answer at all
    assert may_answer(["ana"], "ana", Role.OPERATOR)
    assert may_answer(["ana"], "root", Role.ADMIN)  # admins always may
    assert not may_answer(["ana"], "ben", Role.OPERATOR)
    assert not may_answer(["ana"], None, None)  # nobody identified
    assert refusal(["ana"]) == "only ana (or an admin) may answer this task"
    three = refusal(["ana", "ben", "cy"])
    assert three == "only ana, ben and cy (or an admin) may answer this task"
