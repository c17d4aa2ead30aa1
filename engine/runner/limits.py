"""Call rate limits: calls per second (token bucket) and concurrent channels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RateLimit:
    """At most ``cps`` new calls per second (bursts up to ``cps``) and ``max_channels`` live.

    ``None`` means unlimited. Time comes from ``monotonic`` (a clock's method).
    """

    cps: float | None
    max_channels: int | None
    monotonic: Callable[[], float]
    live: int = 0
    _tokens: float = field(default=0.0, init=False)
    _last: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.cps is not None and self.cps <= 0:
            raise ValueError(f"calls per second must be positive, got {self.cps}")
        if self.max_channels is not None and self.max_channels < 1:
            raise ValueError(f"concurrent channels must be at least 1, got {self.max_channels}")
        self._tokens = float(self.cps or 0)

    def _refill(self) -> None:
        now = self.monotonic()
        if self.cps is not None and self._last is not None:
            self._tokens = min(float(self.cps), self._tokens + (now - self._last) * self.cps)
        self._last = now

    def available(self, extra: int = 0) -> bool:
        """Room for one more call, beyond ``extra`` calls about to be taken."""
        self._refill()
        channels_ok = self.max_channels is None or self.live + extra < self.max_channels
        return channels_ok and (self.cps is None or self._tokens >= 1 + extra)

    def take(self) -> None:
        """Count one new call (call ``available`` first)."""
        self._refill()
        if self.cps is not None:
            self._tokens -= 1
        self.live += 1

    def release(self) -> None:
        """A call counted by ``take`` has ended."""
        self.live = max(0, self.live - 1)


def gateway_key(template: str) -> str:
    """The gateway part of a dial template (``sofia/gateway/carrier/{number}`` ->
    ``sofia/gateway/carrier/``)."""
    return template.split("{number}")[0]


def gateway_limits(config: Mapping[str, Any],
                   monotonic: Callable[[], float]) -> dict[str, RateLimit]:
    """Limits shared by every campaign using a gateway, from the ``[gateway_limits]`` settings.

    ``[gateway_limits."sofia/gateway/carrier/"]`` with ``cps`` and ``channels``.
    """
    limits = {}
    for key, values in config.items():
        where = f"gateway_limits.{key!r}"
        if not isinstance(values, Mapping) or set(values) - {"cps", "channels"}:
            raise ValueError(f"{where} must be a table with only cps and channels")
        try:
            limits[key] = RateLimit(values.get("cps"), values.get("channels"), monotonic)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc
    return limits
