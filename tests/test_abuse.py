"""The abuse limits' arithmetic, on a clock the test moves (the live behaviour:
tests/api/test_ws_abuse.py)."""

from __future__ import annotations

import pytest

from interlock.abuse import ClientCap, MessageLimiter, TokenBucket, Verdict


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_starts_full_and_refills_at_its_rate_up_to_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=20, burst=40, clock=clock)
    assert all(bucket.take() for _ in range(40))
    assert not bucket.take()
    clock.now += 0.05  # one token's worth
    assert bucket.take() and not bucket.take()
    clock.now += 3600  # a long pause saves up one burst, not more
    assert sum(bucket.take() for _ in range(100)) == 40


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_a_bucket_needs_a_rate_and_a_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate, burst)


def verdicts(limiter: MessageLimiter, clock: Clock, per_second: float, seconds: float) -> list[str]:
    """Send at ``per_second`` for ``seconds``; the verdicts, until the first close."""
    out: list[str] = []
    for _ in range(int(per_second * seconds)):
        clock.now += 1 / per_second
        out.append(limiter.admit().value)
        if out[-1] == Verdict.CLOSE:
            break
    return out


def test_a_flood_gets_a_burst_then_a_burst_of_refusals_then_the_close() -> None:
    clock = Clock()
    limiter = MessageLimiter(rate=20, burst=40, clock=clock)
    seen = [limiter.admit() for _ in range(81)]  # all at once: no time passes
    assert seen == [Verdict.ACCEPT] * 40 + [Verdict.REFUSE] * 40 + [Verdict.CLOSE]


def test_up_to_twice_the_rate_is_slowed_down_but_never_closed() -> None:
    clock = Clock()
    seen = verdicts(MessageLimiter(rate=20, burst=40, clock=clock), clock, 40, seconds=600)
    assert Verdict.CLOSE not in seen
    assert seen.count(Verdict.ACCEPT) == pytest.approx(20 * 600 + 40, abs=2)


def test_at_the_rate_nothing_is_refused() -> None:
    clock = Clock()
    seen = verdicts(MessageLimiter(rate=20, burst=40, clock=clock), clock, 20, seconds=600)
    assert set(seen) == {Verdict.ACCEPT}


def test_sustained_abuse_is_closed_within_seconds() -> None:
    clock = Clock()
    start = clock.now
    seen = verdicts(MessageLimiter(rate=20, burst=40, clock=clock), clock, 60, seconds=600)
    assert seen[-1] == Verdict.CLOSE
    # 3x the rate: the first bucket lasts 1 s, the refusals' bucket 2 s more.
    assert clock.now - start == pytest.approx(3, abs=0.1)


def test_the_cap_counts_open_connections_per_address() -> None:
    cap = ClientCap(2)
    assert cap.acquire("10.0.0.1") and cap.acquire("10.0.0.1")
    assert not cap.acquire("10.0.0.1")  # refused: counted nothing
    assert cap.acquire("10.0.0.2")
    assert cap.open("10.0.0.1") == 2
    cap.release("10.0.0.1")
    assert cap.acquire("10.0.0.1")
    for _ in range(2):
        cap.release("10.0.0.1")
    assert cap.open("10.0.0.1") == 0
    assert "at most 2" in cap.refusal("10.0.0.1")
