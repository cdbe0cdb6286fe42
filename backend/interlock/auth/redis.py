"""``RedisAuthStore``: users and credentials in Redis, shared by every instance naming it.

Chosen when ``INTERLOCK_REDIS_URL`` is set (the server and ``interlock users``/``tokens``
alike), so a token made through one instance works on all, and a revocation made on one
closes its WebSockets on all (each polls ``generation``). Four keys, under the prefix
(``INTERLOCK_REDIS_PREFIX``) and one hash tag, so they share a Redis Cluster slot and one
script may change any of them::

    P{auth}:users       hash    user name -> the user (JSON: role, password_hash, created_at)
    P{auth}:creds       hash    credential id -> the token or login session (JSON: kind,
                                user, digest, created_at, expires_at, last_used_at,
                                revoked_at), never its secret
    P{auth}:digest      hash    SHA-256 of a secret -> its credential id
    P{auth}:generation  string  the change counter (INCR; missing means 0)

Each write is one Lua script (``redis_scripts.py``) or one single-key command, so it applies
whole or not at all, with the digest index and the counter moving with the records. Checking
a credential reads three hash fields in one script; listing, pruning, removing a user and
setting a password read every credential (a deployment has hundreds, not millions). Every
call is bounded by ``timeout``, with ``interlock.store.redis``'s client and errors
(``StoreUnavailable`` for what may heal): a write that times out may still have applied, as
with any Redis call. Durability is Redis's (``appendonly yes``; see docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from ..exceptions import DuplicateUser, UnknownToken, UnknownUser
from ..store.redis import bounded, connect
from . import redis_scripts as lua
from .credentials import new_id
from .roles import Role
from .sqlite_schema import iso
from .store import AuthStore, CredentialKind, CredentialRecord, Grant, User, utcnow


class RedisAuthStore(AuthStore):
    """An ``AuthStore`` in Redis under ``prefix``; see the module docstring."""

    def __init__(self, url: str, *, prefix: str = "interlock:", timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self.redis: Any = connect(url, timeout)
        self._where = self.redis.get_connection_kwargs().get("host", url)
        tag = f"{prefix}{{auth}}:"
        self.users, self.creds = f"{tag}users", f"{tag}creds"
        self.digests, self.counter = f"{tag}digest", f"{tag}generation"
        self._keys = [self.users, self.creds, self.digests, self.counter]
        self._scripts = {
            name: self.redis.register_script(getattr(lua, name))
            for name in (
                "ADD_CREDENTIAL",
                "SET_ROLE",
                "SET_PASSWORD",
                "REMOVE_USER",
                "REVOKE",
                "REVOKE_DIGEST",
                "TOUCH",
                "PRUNE",
                "LOOK_UP",
            )
        }

    def _call(self) -> AbstractAsyncContextManager[None]:
        return bounded(self._where, self.timeout)

    async def _run(self, script: str, *args: Any) -> Any:
        async with self._call():
            return await self._scripts[script](self._keys, list(args))

    # ------------------------------------------------------------------------- the API

    async def open(self) -> None:
        async with self._call():
            await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def add_user(self, name: str, role: Role, password_hash: str | None) -> User:
        user = User(name, role, utcnow(), password_hash)
        async with self._call():
            added = await self.redis.hsetnx(self.users, name, lua.user_json(user))
        if not added:
            raise DuplicateUser(name)
        return user

    async def get_user(self, name: str) -> User | None:
        async with self._call():
            raw = await self.redis.hget(self.users, name)
        return lua.user_from(name, raw) if raw is not None else None

    async def list_users(self) -> list[User]:
        async with self._call():
            everyone = await self.redis.hgetall(self.users)
        return sorted(
            (lua.user_from(k.decode(), v) for k, v in everyone.items()), key=lambda u: u.name
        )

    async def set_role(self, name: str, role: Role) -> User:
        raw = await self._run("SET_ROLE", name, role.value)
        if raw is None:
            raise UnknownUser(name)
        return lua.user_from(name, raw)

    async def set_password(self, name: str, password_hash: str | None) -> None:
        given = ("1", password_hash) if password_hash is not None else ("0", "")
        now = iso(utcnow())
        if not await self._run("SET_PASSWORD", name, *given, now, CredentialKind.LOGIN.value):
            raise UnknownUser(name)

    async def remove_user(self, name: str) -> None:
        if not await self._run("REMOVE_USER", name):
            raise UnknownUser(name)

    async def add_credential(
        self,
        kind: CredentialKind,
        user: str,
        secret_digest: str,
        expires_at: datetime | None,
    ) -> CredentialRecord:
        while True:  # a clash of random ids is rare; try another
            record = CredentialRecord(new_id(), kind, user, utcnow(), expires_at, None, None)
            json = lua.record_json(record, secret_digest)
            done = await self._run("ADD_CREDENTIAL", user, record.id, secret_digest, json)
            if done == b"nouser":
                raise UnknownUser(user)
            if done == b"ok":
                return record

    async def _records(self) -> list[CredentialRecord]:
        async with self._call():
            everyone = await self.redis.hgetall(self.creds)
        return [lua.record_from(k.decode(), v) for k, v in everyone.items()]

    async def list_credentials(
        self, kind: CredentialKind, user: str | None = None
    ) -> list[CredentialRecord]:
        chosen = [r for r in await self._records() if r.kind == kind and user in (None, r.user)]
        return sorted(chosen, key=lambda r: (r.created_at, r.id))

    async def get_credential(self, credential_id: str) -> CredentialRecord | None:
        async with self._call():
            raw = await self.redis.hget(self.creds, credential_id)
        return lua.record_from(credential_id, raw) if raw is not None else None

    async def revoke(self, credential_id: str) -> bool:
        done = await self._run("REVOKE", credential_id, iso(utcnow()))
        if done < 0:
            raise UnknownToken(credential_id)
        return bool(done)

    async def revoke_digest(self, secret_digest: str) -> str | None:
        revoked = await self._run("REVOKE_DIGEST", secret_digest, iso(utcnow()))
        return revoked.decode() if revoked is not None else None

    async def touch(self, used: Mapping[str, datetime]) -> None:
        if used:
            await self._run("TOUCH", *(v for cid, at in used.items() for v in (cid, iso(at))))

    async def prune(self, before: datetime) -> int:
        return int(await self._run("PRUNE", iso(before), CredentialKind.LOGIN.value))

    async def _grant(self, by: str, value: str) -> Grant | None:
        found = await self._run("LOOK_UP", by, value)
        if found is None:
            return None
        raw_id, raw_record, raw_user = found
        cid = raw_id.decode()
        record = lua.record_from(cid, raw_record)
        user = lua.user_from(record.user, raw_user) if raw_user is not None else None
        return lua.grant_from(cid, record, user, utcnow())

    async def grant_for_digest(self, secret_digest: str) -> Grant | None:
        return await self._grant("digest", secret_digest)

    async def grant(self, credential_id: str) -> Grant | None:
        return await self._grant("id", credential_id)

    async def generation(self) -> int:
        async with self._call():
            value = await self.redis.get(self.counter)
        return int(value) if value is not None else 0
