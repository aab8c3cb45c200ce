"""Failed API-key attempts are budgeted per client IP (429 with Retry-After above it); the
address comes from X-Forwarded-For only when the peer is a trusted proxy."""

from __future__ import annotations

import pytest

from tests.foundation.limits_support import (
    BAD_KEY,
    assert_budget_exceeded,
    budget_app,
    fresh_window,
    random_ip,
)


async def test_failed_attempts_from_one_ip_are_budgeted(make_client, make_tenant) -> None:
    tenant = await make_tenant("budgeted")
    await fresh_window()
    async with budget_app(make_client, failed_auth_limit=5) as peer:
        attacker, neighbour = peer(random_ip()), peer(random_ip())
        # Successful requests and requests without any credential spend nothing.
        for _ in range(10):
            assert (await attacker.get("/api/me", headers=tenant.headers)).status_code == 200
            assert (await attacker.get("/api/me")).status_code == 401
        for _ in range(5):
            assert (await attacker.get("/api/me", headers=BAD_KEY)).status_code == 401
        assert_budget_exceeded(await attacker.get("/api/me", headers=BAD_KEY))
        # Over budget the key is not even looked at: a valid one cannot be told apart.
        assert_budget_exceeded(await attacker.get("/api/me", headers=tenant.headers))
        # Another address has its own budget.
        assert (await neighbour.get("/api/me", headers=BAD_KEY)).status_code == 401
        assert (await neighbour.get("/api/me", headers=tenant.headers)).status_code == 200


async def test_forwarded_for_is_believed_only_from_trusted_proxies(make_client) -> None:
    proxy = "10.77.0.5"
    await fresh_window()
    async with budget_app(
        make_client, failed_auth_limit=3, trusted_proxies=("10.77.0.0/16",)
    ) as peer:
        via_proxy, direct = peer(proxy), peer(random_ip())
        first, second = random_ip(), random_ip()
        behind = {**BAD_KEY, "X-Forwarded-For": f"{first}, 10.77.0.9"}
        for _ in range(3):
            assert (await via_proxy.get("/api/me", headers=behind)).status_code == 401
        assert_budget_exceeded(await via_proxy.get("/api/me", headers=behind))
        other = {**BAD_KEY, "X-Forwarded-For": second}
        assert (await via_proxy.get("/api/me", headers=other)).status_code == 401
        # A client that is not a proxy cannot pick a fresh address per attempt.
        for _ in range(3):
            spoofed = {**BAD_KEY, "X-Forwarded-For": random_ip()}
            assert (await direct.get("/api/me", headers=spoofed)).status_code == 401
        assert_budget_exceeded(
            await direct.get("/api/me", headers={**BAD_KEY, "X-Forwarded-For": random_ip()})
        )


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # rightmost untrusted hop
        ("10.0.0.2", "198.51.100.9, 198.51.100.1", "198.51.100.1"),  # a spoofed head is ignored
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: the last address we know
        ("10.0.0.2", "", "10.0.0.2"),
        ("2001:db8:1:2:aaaa::1", "", "2001:db8:1:2::/64"),  # IPv6 budgets per /64
        ("::ffff:198.51.100.4", "", "198.51.100.4"),
    ],
)
def test_client_address(peer: str, forwarded: str, expected: str) -> None:
    from backend.lib.client_ip import TrustedProxies

    assert TrustedProxies(["10.0.0.0/8"]).budget_key(peer, forwarded) == expected
