"""REST responses are declared models: the OpenAPI document states every shape, the console's
types are generated from its committed copy, and people read clean messages and titles."""

from __future__ import annotations

import json
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import httpx
from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from interlock.app import create_app
from interlock.schema import dump, openapi_schema
from interlock.states import RequestKind, ResolveReason, TaskStatus
from interlock.store import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_JSON = ROOT / "frontend/src/lib/openapi.json"


def _is_model(annotation: Any) -> bool:
    """A pydantic model, or a list / optional / union of them: not ``dict``, not ``Any``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    return get_origin(annotation) in (list, Union, UnionType) and all(map(_is_model, args))


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every HTTP route of ``app``, also those of included routers (which FastAPI >= 0.16x
    keeps behind one entry each in ``app.routes``)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        return [route for route in app.routes if isinstance(route, APIRoute)]
    contexts = iter_route_contexts(app.routes)
    return [c.original_route for c in contexts if isinstance(c.original_route, APIRoute)]


def test_every_json_route_declares_a_response_model() -> None:
    routes = api_routes(create_app(store=MemoryStore()))
    assert {"/tasks", "/hardware", "/session-info/{session_id}"} <= {r.path for r in routes}
    missing = []
    for route in routes:
        if not route.include_in_schema:
            continue  # the console's static files
        if route.status_code == 204:
            continue  # No Content: there is no body to describe
        response_class = route.response_class
        if isinstance(response_class, DefaultPlaceholder):
            response_class = response_class.value
        if issubclass(response_class, JSONResponse):
            if not _is_model(route.response_model):
                missing.append(f"{sorted(route.methods or ())} {route.path}")
        else:
            # Not JSON (a file, or the console's HTML): its 200 content is stated instead.
            assert route.responses.get(200, {}).get("content"), route.path
    assert not missing, f"JSON routes without a response model: {missing}"


def test_committed_openapi_document_matches_the_app() -> None:
    assert OPENAPI_JSON.read_text() == dump(openapi_schema()), (
        "run `make types` and commit frontend/src/lib/openapi.json and openapi.ts"
    )


def _enum(schemas: dict[str, Any], name: str) -> set[str]:
    return set(schemas[name]["enum"])


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    return {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}


def test_statuses_and_request_kinds_are_enums_in_the_schema() -> None:
    schemas = openapi_schema()["components"]["schemas"]
    assert _enum(schemas, "TaskStatus") == {s.value for s in TaskStatus}
    assert _enum(schemas, "RequestKind") == {k.value for k in RequestKind}
    assert _enum(schemas, "ResolveReason") == {r.value for r in ResolveReason}
    for model in ("TaskView", "CreatedTask", "SessionInfo"):
        assert "TaskStatus" in _refs(schemas[model]["properties"]["status"]), model
    request = schemas["RequestView"]["properties"]
    assert "RequestKind" in _refs(request["kind"]) and "input" in json.dumps(request["kind"])
    assert "ResolveReason" in _refs(request["status"]) and "open" in json.dumps(request["status"])
    pending = _refs(schemas["TaskView"]["properties"]["pending_request"])
    assert pending == {"RequestConfirmation", "RequestUserInput"}


async def test_task_types_have_human_titles(client: httpx.AsyncClient) -> None:
    types = {t["name"]: t for t in (await client.get("/task-types")).json()}
    assert types["interactive_demo"]["title"] == "Interactive e-mail demo"
    assert types["dummy_short"]["title"] == "Dummy task (short)"
    # A task type that gives no title gets one from its name.
    assert types["axis_movement"]["title"] == "Axis movement"


async def test_tasks_carry_their_type_title(client: httpx.AsyncClient) -> None:
    body = {"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}}
    task_id = (await client.post("/tasks", json=body)).json()["task_id"]
    assert (await client.get(f"/tasks/{task_id}")).json()["task_title"] == "Dummy task (short)"
    listed = {t["task_id"]: t for t in (await client.get("/tasks")).json()}
    assert listed[task_id]["task_title"] == "Dummy task (short)"
