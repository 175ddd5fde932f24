"""A token bucket: `burst` tokens at most, refilled at `rate` tokens a second."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TokenBucket"]


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: float  # capacity
    tokens: float
    updated: float  # the monotonic time `tokens` was last brought up to date

    @classmethod
    def full(cls, *, rate: float, burst: float, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=burst, updated=now)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def take(self, cost: float, now: float) -> bool:
        """Spend `cost` tokens if there are that many; say whether it did."""
        self.refill(now)
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def give_back(self, cost: float) -> None:
        self.tokens = min(self.burst, self.tokens + cost)

    def seconds_until(self, cost: float) -> float:
        """How long until `cost` tokens are there (0 if they are now)."""
        missing = min(cost, self.burst) - self.tokens
        return max(0.0, missing / self.rate)

    @property
    def remaining(self) -> int:
        return math.floor(self.tokens)

    @property
    def seconds_to_full(self) -> float:
        return (self.burst - self.tokens) / self.rate
