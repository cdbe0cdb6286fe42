"""``LoginThrottle``: five failures for a name within five minutes block that name."""

from __future__ import annotations

from interlock.auth.throttle import LoginThrottle


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_sixth_try_within_the_window_waits_for_the_oldest_failure_to_age() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("ana")
        clock.now += 10
    assert throttle.retry_after("ana") is None  # four failures: may still try
    throttle.failed("ana")
    assert throttle.retry_after("ana") == 300 - 40  # until the first one is 5 minutes old
    assert throttle.retry_after("ben") is None
    clock.now += 260
    assert throttle.retry_after("ana") is None


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.failed("ana")
        clock.now += 61
    assert throttle.retry_after("ana") is None  # the first fell out of the window
    throttle.failed("ana")
    assert throttle.retry_after("ana") is not None


def test_a_success_clears_the_failures() -> None:
    throttle = LoginThrottle(clock=Clock())
    for _ in range(4):
        throttle.failed("ana")
    throttle.succeeded("ana")
    throttle.failed("ana")
    assert throttle.retry_after("ana") is None
