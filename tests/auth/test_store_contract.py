"""The ``AuthStore`` contract (``interlock.auth.store``), for every implementation.

Each test gets two instances on the same data: what one writes, the other (a server next
to a command, say) sees on its next call. The Redis ones share a key prefix of their own
(skipped when Redis does not answer, unless ``INTERLOCK_REQUIRE_REDIS=1``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest

from interlock.auth import Role
from interlock.auth.credentials import digest, new_login, new_token
from interlock.auth.redis import RedisAuthStore
from interlock.auth.sqlite import SQLiteAuthStore
from interlock.auth.store import AuthStore, CredentialKind, utcnow
from interlock.exceptions import DuplicateUser, UnknownToken, UnknownUser
from tests.support.redis import URL, redis_prefix

Pair = tuple[AuthStore, AuthStore]


def _sqlite(data_dir: Path, _: ExitStack) -> Callable[[], AuthStore]:
    return lambda: SQLiteAuthStore.in_dir(data_dir)


def _redis(_: Path, stack: ExitStack) -> Callable[[], AuthStore]:
    prefix = stack.enter_context(redis_prefix())
    return lambda: RedisAuthStore(URL, prefix=prefix)


IMPLEMENTATIONS = {"sqlite": _sqlite, "redis": _redis}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Pair]:
    with ExitStack() as stack:
        make = IMPLEMENTATIONS[request.param](tmp_path, stack)
        one, two = make(), make()
        await one.open()
        await two.open()
        try:
            yield one, two
        finally:
            await one.close()
            await two.close()


async def test_users_are_shared_unique_and_case_sensitive(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.OPERATOR, "argon2-hash")
    found = await b.get_user("ana")
    assert found is not None and found.role is Role.OPERATOR
    assert found.password_hash == "argon2-hash"
    with pytest.raises(DuplicateUser):
        await b.add_user("ana", Role.VIEWER, None)
    await b.add_user("Ana", Role.VIEWER, None)
    assert [u.name for u in await a.list_users()] == ["Ana", "ana"]
    assert await a.get_user("nobody") is None


async def test_a_credential_grants_its_users_current_role_until_revoked(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.OPERATOR, None)
    secret = new_token()
    record = await a.add_credential(CredentialKind.TOKEN, "ana", digest(secret), None)
    grant = await b.grant_for_digest(digest(secret))
    assert grant is not None and grant.identity().user == "ana"
    assert grant.role is Role.OPERATOR and grant.credential == record.id
    await b.set_role("ana", Role.VIEWER)
    again = await a.grant(record.id)
    assert again is not None and again.role is Role.VIEWER
    assert await b.revoke(record.id) is True
    assert await a.revoke(record.id) is False
    assert await a.grant_for_digest(digest(secret)) is None
    assert await a.grant(record.id) is None
    stored = await b.get_credential(record.id)
    assert stored is not None and stored.state() == "revoked"
    with pytest.raises(UnknownToken):
        await a.revoke("nope")


async def test_expired_credentials_and_removed_users_grant_nothing(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.ADMIN, None)
    past, future = new_token(), new_token()
    await a.add_credential(CredentialKind.TOKEN, "ana", digest(past), utcnow() - timedelta(1))
    kept = await a.add_credential(
        CredentialKind.TOKEN, "ana", digest(future), utcnow() + timedelta(1)
    )
    assert await b.grant_for_digest(digest(past)) is None
    assert await b.grant_for_digest(digest(future)) is not None
    await b.remove_user("ana")
    assert await a.grant_for_digest(digest(future)) is None
    assert await a.get_credential(kept.id) is None  # gone with the user
    with pytest.raises(UnknownUser):
        await a.add_credential(CredentialKind.TOKEN, "ana", digest(new_token()), None)
    with pytest.raises(UnknownUser):
        await b.remove_user("ana")
    with pytest.raises(UnknownUser):
        await b.set_role("ana", Role.VIEWER)


async def test_the_change_counter_moves_on_what_takes_rights_away(stores: Pair) -> None:
    a, b = stores
    start = await b.generation()
    await a.add_user("ana", Role.OPERATOR, None)
    token, login = new_token(), new_login()
    record = await a.add_credential(CredentialKind.TOKEN, "ana", digest(token), None)
    await a.add_credential(CredentialKind.LOGIN, "ana", digest(login), None)
    await a.touch({record.id: utcnow()})
    assert await b.generation() == start  # nothing was taken away yet
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: a.set_role("ana", Role.VIEWER),
        lambda: a.revoke(record.id),
        lambda: a.revoke_digest(digest(login)),
        lambda: a.set_password("ana", "new-hash"),
        lambda: a.remove_user("ana"),
    ]
    for step in steps:
        before = await b.generation()
        await step()
        assert await b.generation() > before


async def test_a_new_password_ends_login_sessions_but_not_tokens(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.OPERATOR, "old-hash")
    token, login = new_token(), new_login()
    await a.add_credential(CredentialKind.TOKEN, "ana", digest(token), None)
    await a.add_credential(CredentialKind.LOGIN, "ana", digest(login), utcnow() + timedelta(1))
    await b.set_password("ana", "new-hash")
    assert await a.grant_for_digest(digest(login)) is None
    assert await a.grant_for_digest(digest(token)) is not None
    user = await a.get_user("ana")
    assert user is not None and user.password_hash == "new-hash"


async def test_last_use_only_moves_forward_and_old_logins_are_pruned(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.OPERATOR, None)
    record = await a.add_credential(CredentialKind.TOKEN, "ana", digest(new_token()), None)
    now = utcnow()
    await a.touch({record.id: now})
    await b.touch({record.id: now - timedelta(minutes=5)})
    stored = await b.get_credential(record.id)
    assert stored is not None and stored.last_used_at == now
    ended = await a.add_credential(
        CredentialKind.LOGIN, "ana", digest(new_login()), now - timedelta(days=3)
    )
    live = await a.add_credential(
        CredentialKind.LOGIN, "ana", digest(new_login()), now + timedelta(hours=1)
    )
    assert await b.prune(now - timedelta(days=1)) == 1
    assert await a.get_credential(ended.id) is None
    assert await a.get_credential(live.id) is not None
    tokens = await a.list_credentials(CredentialKind.TOKEN, "ana")
    assert [t.id for t in tokens] == [record.id]


async def test_logging_out_revoking_and_listing_across_users(stores: Pair) -> None:
    a, b = stores
    await a.add_user("ana", Role.OPERATOR, "hash")
    await a.add_user("bo", Role.VIEWER, None)
    secret = new_login()
    first = await a.add_credential(CredentialKind.LOGIN, "ana", digest(secret), None)
    second = await a.add_credential(CredentialKind.TOKEN, "bo", digest(new_token()), None)
    third = await a.add_credential(CredentialKind.TOKEN, "ana", digest(new_token()), None)
    assert await b.revoke_digest(digest(secret)) == first.id
    assert await a.revoke_digest(digest(secret)) is None  # revoked already
    assert await a.revoke_digest(digest(new_login())) is None  # no such secret
    tokens = await b.list_credentials(CredentialKind.TOKEN)
    assert [t.id for t in tokens] == [second.id, third.id]
    assert [t.id for t in await b.list_credentials(CredentialKind.LOGIN)] == [first.id]
    await b.touch({"unknown": utcnow()})  # a credential gone meanwhile is no error
    await b.set_password("ana", None)
    user = await a.get_user("ana")
    assert user is not None and user.password_hash is None
    assert await a.grant(third.id) is not None and await a.grant("unknown") is None
    assert await b.prune(utcnow() + timedelta(seconds=1)) == 1  # the revoked login
    assert await a.get_credential(first.id) is None
    with pytest.raises(UnknownUser):
        await a.set_password("nobody", None)
