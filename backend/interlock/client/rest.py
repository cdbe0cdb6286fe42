"""The HTTP side of the client: one ``httpx.AsyncClient``, the bearer token, and the
translation of error statuses into ``interlock.client.errors``."""

from __future__ import annotations

from typing import Any

import httpx

from .. import protocol as p
from .errors import (
    AnswerRefused,
    AuthenticationFailed,
    ConnectionLost,
    Forbidden,
    NotFound,
    RequestRefused,
    ValidationFailed,
)

#: FastAPI's answer to a path no route serves (a server older than a route asked for).
NO_ROUTE = "Not Found"
#: Parts of a validation error's ``loc`` that say where in the request, not which field.
_LOC_PREFIXES = ("body", "query", "path")


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def field_errors(body: Any) -> list[p.FieldError]:
    """The per-field errors of a 422: the answer route's ``errors`` ({field, message}) or
    FastAPI's ``detail`` list ({loc, msg}); a start's ``parameters.`` prefix is dropped."""
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        return [p.FieldError.model_validate(e) for e in body["errors"]]
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, list):
        return []
    out = []
    for item in detail:
        loc = [str(part) for part in item.get("loc", [])]
        if loc and loc[0] in _LOC_PREFIXES:
            loc = loc[1:]
        if len(loc) > 1 and loc[0] == "parameters":
            loc = loc[1:]
        out.append(p.FieldError(field=".".join(loc), message=str(item.get("msg", ""))))
    return out


def raise_for(response: httpx.Response) -> None:
    """Raise the ``RequestRefused`` an error status means; nothing for a success."""
    if response.is_success:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = {"detail": response.text}
    raw = body.get("detail") if isinstance(body, dict) else None
    detail = raw if isinstance(raw, str) else response.reason_phrase
    code = body.get("code") if isinstance(body, dict) else None
    status = response.status_code
    if status == 422:
        errors = field_errors(body)
        raise ValidationFailed(detail if isinstance(raw, str) else "invalid request", errors)
    if status == 401:
        raise AuthenticationFailed(status, detail, code)
    if status == 403:
        raise Forbidden(status, detail, code)
    if status == 404:
        raise NotFound(status, detail, code)
    if status == 409 and code:
        raise AnswerRefused(status, detail, code)
    raise RequestRefused(status, detail, code)


class Rest:
    """JSON calls to the server's REST API, errors raised as ``RequestRefused``."""

    def __init__(self, url: str, token: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.url,
            headers={"Accept": "application/json", **auth_headers(token)},
            timeout=timeout,
        )

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            response = await self.http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise ConnectionLost(f"cannot reach {self.url}: {exc!r}") from exc
        raise_for(response)
        return response.json()

    async def maybe(self, method: str, path: str, **kw: Any) -> Any | None:
        """Like ``call``, but None when the server has no such route (404 ``Not Found``)."""
        try:
            return await self.call(method, path, **kw)
        except NotFound as exc:
            if exc.detail == NO_ROUTE:
                return None
            raise

    async def aclose(self) -> None:
        await self.http.aclose()
