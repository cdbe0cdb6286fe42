"""``interlock users …`` / ``interlock tokens …``: what they print, and their exit status
(0 done, 1 failed, 2 usage). In-process here; ``test_tokens.py`` runs them as processes next
to a live server."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from interlock.auth.credentials import digest
from interlock.auth.redis import RedisAuthStore
from interlock.auth.store import Grant
from interlock.cli import main
from tests.support.redis import URL, redis_prefix


class Run:
    """Runs ``interlock <argv> --data-dir <dir>``; returns (status, stdout, stderr)."""

    def __init__(self, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir = data_dir
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "--data-dir", str(self.data_dir)])
        out, err = self.capsys.readouterr()
        code = exit_info.value.code
        return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(tmp_path / "data", capsys)


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_are_added_listed_changed_and_removed(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, "s3cret pass\n")
    assert run("users", "add", "ana", "--role", "operator", "--password-stdin")[0] == 0
    code, _, err = run("users", "add", "bot", "--role", "viewer")
    assert code == 0 and "tokens only" in err
    code, out, _ = run("users", "list")
    rows = [line.split()[:3] for line in out.splitlines()]
    assert rows == [
        ["NAME", "ROLE", "PASSWORD"],
        ["ana", "operator", "yes"],
        ["bot", "viewer", "no"],
    ]
    assert "s3cret" not in out
    assert run("users", "set-role", "bot", "admin") == (0, "", "bot is now admin\n")
    assert run("users", "remove", "bot")[0] == 0
    assert [line.split()[0] for line in run("users", "list")[1].splitlines()] == ["NAME", "ana"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["users", "add", "ana", "--role", "operator"], 1, "a user named 'ana' already exists"),
        (["users", "add", "bo b", "--role", "viewer"], 2, "invalid user name 'bo b'"),
        (["users", "add", "bob", "--role", "boss"], 2, "invalid choice: 'boss'"),
        (["users", "add", "bob"], 2, "the following arguments are required: --role"),
        (["users", "set-role", "zed", "admin"], 1, "no user named 'zed'"),
        (["users", "set-role", "ana", "root"], 2, "invalid choice: 'root'"),
        (["users", "remove", "zed"], 1, "no user named 'zed'"),
        (["tokens", "create", "--user", "zed"], 1, "no user named 'zed'"),
        (["tokens", "create", "--user", "ana", "--expires-days", "0"], 2, "must be more than 0"),
        (["tokens", "create", "--user", "ana", "--expires-days", "x"], 2, "not a number: 'x'"),
        (["tokens", "list", "--user", "zed"], 1, "no user named 'zed'"),
        (["tokens", "revoke", "nope"], 1, "no token with id 'nope'"),
    ],
)
def test_bad_requests_say_what_is_wrong_with_their_exit_status(
    run: Run, argv: list[str], code: int, message: str
) -> None:
    assert run("users", "add", "ana", "--role", "operator")[0] == 0
    got, out, err = run(*argv)
    assert (got, out) == (code, "")
    assert message in err
    assert [line.split()[0] for line in run("users", "list")[1].splitlines()] == ["NAME", "ana"]


def test_an_empty_password_fails_and_adds_nobody(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, "\n")
    code, _, err = run("users", "add", "ana", "--role", "viewer", "--password-stdin")
    assert code == 1 and "the password is empty" in err
    assert run("users", "list")[1].splitlines() == ["NAME  ROLE  PASSWORD  CREATED (UTC)"]


def test_a_token_is_printed_once_listed_without_its_secret_and_revoked(run: Run) -> None:
    run("users", "add", "ana", "--role", "operator")
    code, token, err = run("tokens", "create", "--user", "ana", "--expires-days", "30")
    token = token.strip()
    assert code == 0 and token.startswith("ilt_") and "shown only this once" in err
    code, listing, _ = run("tokens", "list")
    assert token not in listing
    (row,) = listing.splitlines()[1:]
    token_id, user, *_, state = row.split()
    assert (user, state) == ("ana", "active")
    assert run("tokens", "revoke", token_id) == (0, "", f"revoked token {token_id}\n")
    assert run("tokens", "revoke", token_id)[2] == f"token {token_id} was already revoked\n"
    assert run("tokens", "list", "--user", "ana")[1].split()[-1] == "revoked"


def test_the_data_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INTERLOCK_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(SystemExit) as exit_info:
        main(["users", "add", "ana", "--role", "admin"])
    assert exit_info.value.code == 0
    assert (tmp_path / "elsewhere" / "auth.sqlite3").is_file()


def test_with_a_redis_url_the_commands_work_on_the_users_in_redis(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    with redis_prefix() as prefix:
        monkeypatch.setenv("INTERLOCK_REDIS_URL", URL)
        monkeypatch.setenv("INTERLOCK_REDIS_PREFIX", prefix)
        assert run("users", "add", "ana", "--role", "operator")[0] == 0
        code, token, _ = run("tokens", "create", "--user", "ana")
        assert code == 0
        monkeypatch.delenv("INTERLOCK_REDIS_URL")
        monkeypatch.delenv("INTERLOCK_REDIS_PREFIX")
        flags = ("--redis-url", URL, "--redis-prefix", prefix)
        assert run("users", "list", *flags)[1].splitlines()[1].split()[:2] == ["ana", "operator"]

        async def grant() -> Grant | None:
            store = RedisAuthStore(URL, prefix=prefix)
            await store.open()
            try:
                return await store.grant_for_digest(digest(token.strip()))
            finally:
                await store.close()

        found = asyncio.run(grant())
        assert found is not None and found.user == "ana"
    assert not (run.data_dir / "auth.sqlite3").exists()
