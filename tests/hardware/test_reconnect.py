"""Reconnector: retries with exponential backoff after a trigger until an attempt succeeds."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

from interlock.hardware import Backoff, BackoffOptions, Reconnector


def test_backoff_grows_by_its_factor_up_to_the_maximum() -> None:
    delays = Backoff(initial=0.1, factor=2.0, maximum=0.5).delays()
    assert list(itertools.islice(delays, 6)) == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    options = BackoffOptions(initial=1, factor=3, maximum=10)
    assert list(itertools.islice(Backoff.of(options).delays(), 4)) == [1, 3, 9, 10]


def test_retries_until_an_attempt_succeeds_then_waits_for_the_next_trigger() -> None:
    results: Iterator[bool | Exception] = iter([False, RuntimeError("refused"), False, True, True])
    done = threading.Event()
    again = threading.Event()

    def attempt() -> bool:
        outcome = next(results)
        if isinstance(outcome, Exception):
            raise outcome  # a raising attempt is a failed one
        if outcome:
            (again if done.is_set() else done).set()
        return outcome

    reconnector = Reconnector("test", attempt, Backoff(initial=0.001, maximum=0.002))
    try:
        reconnector.trigger()
        assert done.wait(5)
        assert reconnector.attempts == 4
        assert not again.is_set()  # idle until triggered again
        reconnector.trigger()
        assert again.wait(5)
        assert reconnector.attempts == 5
    finally:
        reconnector.close()


def test_close_ends_a_long_wait_at_once_and_later_triggers_do_nothing() -> None:
    attempted = threading.Event()

    def attempt() -> bool:
        attempted.set()
        return False

    reconnector = Reconnector("test", attempt, Backoff(initial=3600))
    reconnector.trigger()
    reconnector.close()  # joins the thread: would hang for an hour if the wait ignored it
    reconnector.trigger()
    assert not attempted.is_set() and reconnector.attempts == 0
