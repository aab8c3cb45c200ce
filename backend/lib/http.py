"""The one shared outbound HTTP client, and the guard against server-side request forgery.

Tenant-supplied URLs (API base overrides, alert targets) must not reach loopback, private,
link-local or metadata addresses unless the operator allow-lists them. The guard resolves
the host and checks every address it resolves to; redirects are not followed blindly.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

_client: httpx.AsyncClient | None = None


class UnsafeURLError(ValueError):
    """A tenant-supplied URL points where we refuse to go."""


def new_client(timeout: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
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


async def check_public_url(url: str, allowed: tuple[str, ...]) -> str:
    """The URL, if it is http(s) and resolves only to public (or allow-listed) addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError("the URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise UnsafeURLError("the URL must not carry credentials")
    host = parts.hostname
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise UnsafeURLError("the URL's host does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if _is_allowed(host, addresses, allowed):
        return url
    if not all(_is_public(a) for a in addresses):
        raise UnsafeURLError("the URL points at a private, loopback or metadata address")
    return url
