"""The one shared outbound HTTP client, and the guard against server-side request forgery.

Tenant-influenced URLs (an API base override, a provider-named certificate URL) must not
reach loopback, private, link-local or metadata addresses unless the operator allow-lists
them. Checking a URL when it is saved is not enough: DNS can answer differently when we
connect (rebinding, a record changed later). So the shared client's transport resolves
every host at connect time, checks every address, and connects to a checked address; TLS
still verifies the certificate and sends SNI for the URL's host name, and the Host header
is the URL's. Hosts the operator configured in the environment are trusted and exempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]

_client: httpx.AsyncClient | None = None


class UnsafeURLError(ValueError):
    """A tenant-supplied URL points where we refuse to go."""


class UnsafeAddressError(httpcore.ConnectError):
    """Refused at connect time: the host resolved to an address we do not call.

    A `ConnectError` subclass, so httpx reports it as `httpx.ConnectError` (whose
    `__cause__` is this) and every caller's existing network-failure handling applies.
    """


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURLError("the URL's host does not resolve") from exc
    # Keep the resolver's order (it prefers what is reachable) but drop repeats.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_allowed(host: str, addresses: list[str], allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        if entry == host:
            return True
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if all(ipaddress.ip_address(a) in net for a in addresses):
            return True
    return False


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or str(ip) in {"169.254.169.254", "100.100.100.200"}
        or ip in ipaddress.ip_network("100.64.0.0/10")
    )


def check_addresses(host: str, addresses: list[str], allowed: tuple[str, ...]) -> None:
    """Raise UnsafeURLError unless every address is public or the host is allow-listed."""
    if not addresses:
        raise UnsafeURLError("the URL's host does not resolve")
    if _is_allowed(host, addresses, allowed):
        return
    if not all(_is_public(a) for a in addresses):
        raise UnsafeURLError("the URL points at a private, loopback or metadata address")


async def check_public_url(url: str, allowed: tuple[str, ...], resolver: Resolver = resolve) -> str:
    """The URL, if it is http(s) and resolves only to public (or allow-listed) addresses.

    A check for the moment a URL is saved, to answer the tenant early; the connect-time
    guard below is what actually protects each call.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError("the URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise UnsafeURLError("the URL must not carry credentials")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    check_addresses(parts.hostname, await resolver(parts.hostname, port), allowed)
    return url


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to a checked address itself, so the
    address that was checked is the one connected to (no second resolution)."""

    def __init__(
        self,
        allowed: tuple[str, ...] | None = None,
        trusted_hosts: frozenset[str] | None = None,
        resolver: Resolver = resolve,
    ) -> None:
        # None: read from the environment at each connect, like the connector settings.
        self.allowed = allowed
        self.trusted_hosts = trusted_hosts
        self.resolver = resolver
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        trusted = operator_hosts() if self.trusted_hosts is None else self.trusted_hosts
        if host.lower() in trusted:
            addresses = [host]
        else:
            allowed = allowed_private_hosts() if self.allowed is None else self.allowed
            try:
                addresses = await self.resolver(host, port)
                check_addresses(host, addresses, allowed)
            except UnsafeURLError as exc:
                raise UnsafeAddressError(f"refused to connect to {host}: {exc}") from None
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeAddressError("unix sockets are never reached from outbound calls")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and error mapping unchanged) over a connection pool
    whose network backend is the guard."""

    def __init__(self, backend: GuardedNetworkBackend, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def operator_hosts(env: typing.Mapping[str, str] | None = None) -> frozenset[str]:
    """Hosts of the URLs the operator set in the environment (`SWITCHBOARD_*_URL`):
    trusted configuration, reached even when they are private (an internal GHE)."""
    source = os.environ if env is None else env
    hosts = set()
    for name, value in source.items():
        if name.startswith("SWITCHBOARD_") and name.endswith("_URL") and value.strip():
            host = urlsplit(value.strip()).hostname
            if host:
                hosts.add(host.lower())
    return frozenset(hosts)


def allowed_private_hosts(env: typing.Mapping[str, str] | None = None) -> tuple[str, ...]:
    source = os.environ if env is None else env
    raw = source.get("SWITCHBOARD_ALLOWED_PRIVATE_HOSTS", "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def new_client(
    timeout: float = 10.0,
    *,
    allowed: tuple[str, ...] | None = None,
    trusted_hosts: frozenset[str] | None = None,
    resolver: Resolver = resolve,
) -> httpx.AsyncClient:
    """A guarded client; by default the allow-list and trusted hosts come from the env."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    backend = GuardedNetworkBackend(allowed, trusted_hosts, resolver)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        transport=GuardedTransport(backend, limits),
        follow_redirects=False,
        headers={"User-Agent": "Switchboard/0.1"},
    )


def get_client(timeout: float = 10.0) -> httpx.AsyncClient:
    """The process-wide client (connection pooling across all adapters)."""
    global _client
    if _client is None or _client.is_closed:
        _client = new_client(timeout)
    return _client


async def close_client() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


def refused_by_guard(exc: BaseException) -> bool:
    """Whether an httpx error is the guard refusing an address (not a network failure)."""
    return isinstance(exc.__cause__, UnsafeAddressError) or isinstance(exc, UnsafeAddressError)
