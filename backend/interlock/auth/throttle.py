"""``LoginThrottle``: after five failed logins for a name within five minutes, that name
may not try again until the oldest of them is five minutes old (HTTP 429, ``Retry-After``).

Per name, not per address: guessing one person's password from many addresses is still
slowed down. A correct password does not get past the block either (it would tell the
guesser that it was right). Kept in memory, per server process, for a bounded number of
names (a flood of made-up names cannot grow it without limit).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW = 300.0
#: Names tracked at most; past it the least recently failed are forgotten.
MAX_NAMES = 10_000


class LoginThrottle:
    """Counts failed logins per name over a sliding window; see the module docstring."""

    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, name: str) -> deque[float] | None:
        failures = self._failures.get(name)
        if failures is None:
            return None
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[name]
            return None
        return failures

    def retry_after(self, name: str) -> int | None:
        """Whole seconds until ``name`` may try again, or None when it may now."""
        failures = self._recent(name)
        if failures is None or len(failures) < self.limit:
            return None
        return max(1, math.ceil(failures[-self.limit] + self.window - self._clock()))

    def failed(self, name: str) -> None:
        """Count a failed login for ``name``."""
        failures = self._recent(name)
        if failures is None:
            failures = self._failures[name] = deque(maxlen=self.limit)
        failures.append(self._clock())
        # Re-insert: dicts keep insertion order, so the first key is the stalest name.
        self._failures[name] = self._failures.pop(name)
        while len(self._failures) > MAX_NAMES:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, name: str) -> None:
        """A successful login clears the name's failures."""
        self._failures.pop(name, None)
