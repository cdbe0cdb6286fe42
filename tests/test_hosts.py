"""The names the server answers to, and what is loopback."""

from __future__ import annotations

import pytest

from interlock.hosts import HostPolicy, host_name, is_loopback, split_host
from interlock.settings import Settings


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
