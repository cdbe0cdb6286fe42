"""The cross-site rule: which Origin / Sec-Fetch-Site combinations may change state."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from interlock.origins import OriginPolicy, normalize_origin, same_origin
from interlock.settings import Settings

HOST = "127.0.0.1:8000"


def refusal(policy: OriginPolicy, host: str | None = HOST, **headers: str) -> str | None:
    raw = {k.replace("_", "-"): v for k, v in headers.items()}
    if host is not None:
        raw["host"] = host
    return policy.refusal(Headers(raw))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://lab.example", "http://lab.example"),
        ("HTTP://Lab.Example:80/", "http://lab.example"),
        ("https://lab.example:443", "https://lab.example"),
        ("https://lab.example:8443", "https://lab.example:8443"),
        ("http://[0:0::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("lab.example", None),
        ("ftp://lab.example", None),
        ("http://lab.example/console", None),
        ("http://user@lab.example", None),
        ("http://lab.example:99999", None),
        ("*", None),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(text: str, expected: str | None) -> None:
    assert normalize_origin(text) == expected


def test_same_origin_compares_host_and_port_not_scheme() -> None:
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert same_origin("http://LOCALHOST:8000", "localhost:8000")
    assert same_origin("http://[::1]:8000", "[::1]:8000")
    # Behind a TLS proxy that keeps Host: the page is https, the Host has no port.
    assert same_origin("https://interlock.lab.example", "interlock.lab.example")
    assert same_origin("https://interlock.lab.example", "interlock.lab.example:443")
    assert not same_origin("http://127.0.0.1:8001", "127.0.0.1:8000")
    assert not same_origin("http://localhost:8000", "127.0.0.1:8000")
    assert not same_origin("http://interlock.lab.example", "interlock.lab.example:8000")
    assert not same_origin("http://127.0.0.1:8000", None)
    assert not same_origin("null", "127.0.0.1:8000")


def test_requests_from_this_server_or_from_no_browser_go_ahead() -> None:
    policy = OriginPolicy.of([])
    assert refusal(policy) is None  # curl, scripts: neither header
    assert refusal(policy, origin="http://127.0.0.1:8000") is None
    assert refusal(policy, origin="http://127.0.0.1:8000", sec_fetch_site="same-origin") is None
    assert refusal(policy, sec_fetch_site="same-origin") is None
    assert refusal(policy, sec_fetch_site="none") is None


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://evil.example", "sec_fetch_site": "cross-site"},
        {"origin": "http://127.0.0.1:8000", "sec_fetch_site": "cross-site"},
        {"sec_fetch_site": "cross-site"},
        {"sec_fetch_site": "same-site"},  # a sibling port or subdomain: another application
        {"origin": "http://127.0.0.1:3000", "sec_fetch_site": "same-site"},
        {"sec_fetch_site": "something-new"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8000/"},
    ],
)
def test_other_sites_are_refused_with_a_reason(headers: dict[str, str]) -> None:
    reason = refusal(OriginPolicy.of([]), **headers)
    assert reason is not None and "refused" in reason


def test_a_listed_origin_is_trusted_even_cross_site_and_star_trusts_nobody() -> None:
    policy = OriginPolicy.of(["https://dash.lab.example", "*"])
    assert refusal(policy, origin="https://dash.lab.example", sec_fetch_site="cross-site") is None
    assert refusal(policy, origin="https://DASH.lab.example:443") is None
    assert refusal(policy, origin="http://dash.lab.example") is not None  # another scheme
    assert refusal(policy, origin="http://evil.example") is not None


def test_a_long_origin_is_shortened_in_the_reason() -> None:
    reason = refusal(OriginPolicy.of([]), origin="http://" + "e" * 500 + ".example")
    assert reason is not None and len(reason) < 250


def test_allowed_origins_are_checked_and_normalized() -> None:
    settings = Settings(allowed_origins=["HTTPS://Dash.Lab.Example:443/", "*"])
    assert settings.allowed_origins == ["https://dash.lab.example", "*"]
    with pytest.raises(ValueError, match=r"not an origin: 'dash.lab.example' \(expected"):
        Settings(allowed_origins=["dash.lab.example"])
