"""The names the server answers to, what is loopback, and `interlock serve` refusing to
listen beyond this machine without authentication."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from interlock.hosts import HostPolicy, host_name, is_loopback, split_host
from interlock.server import NO_AUTH_REFUSAL
from interlock.settings import Settings
from tests.support.server import free_socket


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("localhost", ("localhost", None)),
        ("LocalHost:8000", ("localhost", 8000)),
        ("localhost.:80", ("localhost", 80)),
        ("[::1]:8000", ("::1", 8000)),
        ("[0:0:0:0:0:0:0:1]", ("::1", None)),
        ("::1", ("::1", None)),  # a bind address or settings entry, not a Host header
        ("127.0.0.1:65535", ("127.0.0.1", 65535)),
        ("lab-pc_2.example", ("lab-pc_2.example", None)),
    ],
)
def test_hosts_are_split_and_normalized(value: str, expected: tuple[str, int | None]) -> None:
    assert split_host(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", ":80", "a b", "evil.example:", "evil.example:80:80", "host:65536", "host:8o",
     "[::1", "[evil]:80", "[::1]80", "a..b", ".a", "user@host", "host/path", "é.example"],
)  # fmt: skip
def test_malformed_hosts_are_none(value: str) -> None:
    assert split_host(value) is None and host_name(value) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("lab-pc", False),  # names are not resolved: they may reach anywhere
        ("localhost.evil.example", False),
    ],
)
def test_loopback_is_127_8_and_ipv6_one_and_localhost(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_server_answers_to_this_machine_its_bind_address_and_configured_names() -> None:
    policy = HostPolicy.of("192.168.1.5", ["Interlock.Lab.Example", "10.0.0.7"])
    for host in ("localhost", "127.0.0.1:8000", "[::1]:8000", "192.168.1.5:8000",
                 "interlock.lab.example", "INTERLOCK.lab.example.:443", "10.0.0.7"):  # fmt: skip
        assert policy.allows(host), host
    for host in ("evil.example", "192.168.1.6", "lab.example", "127.0.0.2", "", "a b"):
        assert not policy.allows(host), host
    assert policy.allows(None)  # no Host at all: not a browser


def test_a_wildcard_bind_adds_no_name_and_star_allows_any_wellformed_host() -> None:
    assert not HostPolicy.of("0.0.0.0", []).allows("0.0.0.0:8000")
    assert not HostPolicy.of("::", []).allows("[::]:8000")
    anyone = HostPolicy.of("0.0.0.0", ["*"])
    assert anyone.allows("evil.example:8000")
    assert not anyone.allows("a b")


def test_allowed_hosts_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERLOCK_ALLOWED_HOSTS", "lab.example, 10.0.0.7 ,[::2]")
    assert Settings().allowed_hosts == ["lab.example", "10.0.0.7", "[::2]"]


@pytest.mark.parametrize("entry", ["lab example", "http://lab.example", "lab.example/x", "[::"])
def test_a_bad_allowed_host_is_a_clear_error(entry: str) -> None:
    with pytest.raises(ValueError, match="not a host name or address"):
        Settings(allowed_hosts=[entry])


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    sock = free_socket()
    port = str(sock.getsockname()[1])
    sock.close()
    return subprocess.run(
        [sys.executable, "-m", "interlock", "serve", "--port", port, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "lab-pc"])
def test_serve_refuses_a_non_loopback_host_without_authentication(
    tmp_path: Path, host: str
) -> None:
    done = serve(tmp_path, "--host", host)
    assert done.returncode == 1, done
    assert done.stderr.strip().splitlines()[-1] == (
        f"refusing to listen on {host} without authentication: set INTERLOCK_AUTH=true "
        "(or INTERLOCK_ALLOW_NO_AUTH=true to accept the risk)"
    )
    assert NO_AUTH_REFUSAL.format(host=host) in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--auth",), {}),
        ((), {"INTERLOCK_AUTH": "true"}),
        (("--allow-no-auth",), {}),
        ((), {"INTERLOCK_ALLOW_NO_AUTH": "true"}),
    ],
)
def test_authentication_or_accepting_the_risk_passes_the_check(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: past the check, binding fails. That
    # shows the check let it through without ever listening beyond loopback in a test.
    done = serve(tmp_path, "--host", "192.0.2.1", *args, **env)
    assert "refusing to listen" not in done.stderr, done.stderr
    assert "192.0.2.1" in done.stderr and done.returncode != 0, done
    assert (tmp_path / "data").exists()
    if "--allow-no-auth" in args or env.get("INTERLOCK_ALLOW_NO_AUTH"):
        assert "listening on 192.0.2.1 without authentication" in done.stderr
