"""REST for signing in and API tokens: ``/auth/login``, ``/auth/logout``, ``/auth/me``,
``/auth/tokens`` (the caller's own), and ``/auth/users`` (admins).

With authentication off, ``/auth/me`` says ``{"user": null, "role": "admin"}`` (everyone is
the local admin) and the other routes answer 404: there are no users then.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ..auth import Role
from ..auth.store import CredentialRecord
from ..auth.verifier import COOKIE
from ..exceptions import UnknownToken
from .deps import Admin, Auth, Public, Viewer
from .views import Detail

router = APIRouter(prefix="/auth", tags=["auth"])
log = logging.getLogger("interlock.auth")

BAD_LOGIN = "Invalid username or password"


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """Who the caller is: ``user`` is null when authentication is off."""

    user: str | None
    role: Role


class TokenView(BaseModel):
    """An API token as its owner sees it (never the token itself)."""

    id: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Noted at most once a minute")

    @classmethod
    def of(cls, record: CredentialRecord) -> TokenView:
        return cls(
            id=record.id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
        )


class TokenCreate(BaseModel):
    """Body of ``POST /auth/tokens`` (optional): ``expires_days``, or no expiry."""

    model_config = ConfigDict(extra="forbid")
    expires_days: float | None = Field(default=None, gt=0, le=3650)


class NewToken(TokenView):
    """A token just made: ``token`` is shown this once and kept nowhere in the clear."""

    token: str
    user: str


class UserView(BaseModel):
    user: str
    role: Role
    created_at: datetime
    has_password: bool = Field(description="False: the user signs in with tokens only")


def over_https(request: Request) -> bool:
    """Whether the browser reached us over https: directly, or through a reverse proxy that
    says so with ``X-Forwarded-Proto: https`` or ``Forwarded: proto=https``. Trusting the
    header is safe here: it only decides the cookie's ``Secure`` flag, and a client that
    lies about it only keeps its own browser from sending the cookie back."""
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    forwarded = request.headers.get("forwarded", "").split(",")[0].lower().replace(" ", "")
    return proto == "https" or "proto=https" in forwarded.split(";")


def _cookie(response: Response, request: Request, value: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,  # no script can read it
        samesite="strict",  # no other site's page can make the browser send it
        secure=over_https(request),
    )


@router.post(
    "/login",
    dependencies=[Public],
    responses={401: {"model": Detail}, 429: {"model": Detail}, 404: {"model": Detail}},
)
async def login(body: LoginBody, request: Request, response: Response, auth: Auth) -> Me:
    """Sign in: sets the HttpOnly, SameSite=Strict session cookie. 401 for a wrong name or
    password; 429 (``Retry-After``) after five failures for the name within five minutes."""
    client = request.client.host if request.client else "unknown"
    wait = auth.throttle.retry_after(body.username)
    if wait is not None:
        log.warning("login for %r from %s refused: too many failures", body.username, client)
        raise HTTPException(
            429, "Too many failed logins; try again later", headers={"Retry-After": str(wait)}
        )
    signed_in = await auth.login(body.username, body.password)
    if signed_in is None:
        auth.throttle.failed(body.username)
        log.warning("failed login for %r from %s", body.username, client)
        raise HTTPException(401, BAD_LOGIN, headers={"WWW-Authenticate": "Bearer"})
    auth.throttle.succeeded(body.username)
    grant, secret = signed_in
    _cookie(response, request, secret, int(auth.login_lifetime.total_seconds()))
    return Me(user=grant.user, role=grant.role)


@router.post("/logout", status_code=204, dependencies=[Public], response_class=Response)
async def logout(request: Request, response: Response, auth: Auth) -> None:
    """End the login session of the cookie (its WebSockets close with 4401) and clear the
    cookie. API tokens are not touched: revoke them with ``DELETE /auth/tokens/{id}``."""
    secret = request.cookies.get(COOKIE)
    if secret:
        await auth.logout(secret)
    _cookie(response, request, "", 0)


@router.get("/me")
async def me(caller: Viewer) -> Me:
    """Who the caller is (401 when not signed in)."""
    return Me(user=caller.user, role=caller.role)


@router.get("/tokens", responses={404: {"model": Detail}})
async def list_tokens(caller: Viewer, auth: Auth) -> list[TokenView]:
    """The caller's API tokens that are not revoked (expired ones included)."""
    await auth.authenticator.flush_usage()
    records = await auth.accounts.tokens(caller.user)
    return [TokenView.of(r) for r in records if r.revoked_at is None]


@router.post("/tokens", status_code=201, responses={404: {"model": Detail}})
async def create_token(
    caller: Viewer, auth: Auth, body: Annotated[TokenCreate | None, Body()] = None
) -> NewToken:
    """A new API token of the caller's, shown once: send it as ``Authorization: Bearer``."""
    assert caller.user is not None  # authentication is on (Auth)
    record, secret = await auth.accounts.create_token(
        caller.user, body.expires_days if body else None
    )
    return NewToken(token=secret, user=record.user, **TokenView.of(record).model_dump())


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"model": Detail}},
)
async def revoke_token(token_id: str, caller: Viewer, auth: Auth) -> None:
    """Revoke one of the caller's tokens (an admin: anyone's); its WebSockets close with
    4401. 404 for a token that is not the caller's or is revoked already."""
    owner = None if caller.allows(Role.ADMIN) else caller.user
    try:
        if not await auth.revoke_token(token_id, owner=owner):
            raise UnknownToken(token_id)
    except UnknownToken:
        raise HTTPException(404, f"Token not found: {token_id}") from None


@router.get("/users", responses={404: {"model": Detail}})
async def users(_admin: Admin, auth: Auth) -> list[UserView]:
    """Every user and role (admins only; users are managed with ``interlock users``)."""
    return [
        UserView(
            user=u.name, role=u.role, created_at=u.created_at, has_password=bool(u.password_hash)
        )
        for u in await auth.store.list_users()
    ]
