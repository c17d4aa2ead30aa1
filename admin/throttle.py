"""Login throttling: too many failures for a username or an address lock it out for a while."""

from __future__ import annotations

import threading
from collections import deque

from engine.clock import Clock


class LoginThrottle:
    """Counts failed logins per key in a sliding window; thread-safe, per process."""

    def __init__(self, clock: Clock, max_failures: int, window_seconds: int) -> None:
        self._clock = clock
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key, deque())
        horizon = self._clock.monotonic() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        return times

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key`` may try again; 0 when it may try now."""
        with self._lock:
            times = self._recent(key)
            if len(times) < self._max:
                return 0
            return int(times[-self._max] + self._window - self._clock.monotonic()) + 1

    def failed(self, key: str) -> None:
        with self._lock:
            times = self._recent(key)
            times.append(self._clock.monotonic())
            self._failures[key] = times

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
