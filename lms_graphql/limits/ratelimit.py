"""Token buckets: query cost per tenant and per user, login attempts per account and address.

In process memory by default (each process keeps its own buckets: with N processes a client
gets up to N times the budget); in Redis when LMS_RATE_LIMIT_URL is set, shared by every
process and machine.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the amount would be available


class Limiter(Protocol):
    async def take(self, key: str, amount: int, capacity: int, per_second: float) -> Decision: ...

    async def close(self) -> None: ...


def _decide(tokens: float, amount: int, per_second: float) -> tuple[bool, float, int]:
    if tokens >= amount:
        return True, tokens - amount, 0
    return False, tokens, max(1, math.ceil((amount - tokens) / per_second))


class MemoryLimiter:
    def __init__(self, size: int = 200_000) -> None:
        # Idle buckets are full buckets: forgetting them after an hour changes nothing.
        self._buckets: TTLCache[str, tuple[float, float]] = TTLCache(maxsize=size, ttl=3600)

    async def take(self, key: str, amount: int, capacity: int, per_second: float) -> Decision:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(capacity), now))
        tokens = min(float(capacity), tokens + (now - updated) * per_second)
        allowed, left, retry_after = _decide(tokens, amount, per_second)
        self._buckets[key] = (left, now)
        return Decision(allowed, int(left), retry_after)

    async def close(self) -> None:
        return None


# KEYS[1] bucket; ARGV: amount, capacity, per_second, now (seconds). Atomic in Redis.
TAKE_SCRIPT = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local capacity = tonumber(ARGV[2])
local per_second = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local tokens = tonumber(bucket[1]) or capacity
local updated = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * per_second)
local amount = tonumber(ARGV[1])
local allowed = 0
if tokens >= amount then
  tokens = tokens - amount
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', now)
redis.call('EXPIRE', KEYS[1], 3600)
return {allowed, tostring(tokens)}
"""


class RedisLimiter:
    def __init__(self, url: str) -> None:
        from redis import asyncio as redis

        self._client = redis.Redis.from_url(url)
        self._take = self._client.register_script(TAKE_SCRIPT)

    async def take(self, key: str, amount: int, capacity: int, per_second: float) -> Decision:
        allowed, tokens = await self._take(keys=[f"lms:rate:{key}"], args=[amount, capacity, per_second, time.time()])
        left = float(tokens)
        if allowed:
            return Decision(True, int(left), 0)
        return Decision(False, int(left), max(1, math.ceil((amount - left) / per_second)))

    async def close(self) -> None:
        await self._client.aclose()


def limiter_for(url: str | None) -> Limiter:
    if url and url.split(":", 1)[0] in ("redis", "rediss"):
        return RedisLimiter(url)
    return MemoryLimiter()
