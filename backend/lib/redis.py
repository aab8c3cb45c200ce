"""The process's Redis client: arq's `ArqRedis`, so jobs and plain commands share one pool.

Built without a startup ping so the api starts (and reports not-ready) while Redis is down;
short timeouts keep the webhook path from stalling on it (the sweeper catches up later).
"""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


def connect(url: str, queue_name: str) -> ArqRedis:
    redis = ArqRedis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    redis.default_queue_name = queue_name
    return redis
