"""Which address a request comes from, and whether its forwarded headers may be believed.

X-Forwarded-For is believed only hop by hop from SWITCHBOARD_TRUSTED_PROXIES, right to left,
so a client cannot choose its own address by sending the header; the servers run with
their own proxy-header handling off for the same reason.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# One IPv6 subscriber usually holds a whole /64: budget the network, not each address.
_IPV6_BUDGET_PREFIX = 64


def _parse(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries]

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def vouches_for(self, peer: str | None) -> bool:
        """Whether the connecting peer is a trusted proxy (its X-Forwarded-* count)."""
        address = _parse(peer or "") if self.networks else None
        return address is not None and self.is_trusted(address)

    def client_address(self, peer: str | None, forwarded_for: str = "") -> IPAddress | None:
        """The nearest hop no trusted proxy vouches for: the peer itself unless it is a
        trusted proxy, then X-Forwarded-For from the right. An entry that is not an
        address stops the walk at the last hop known for sure."""
        hop = _parse(peer or "")
        if hop is None or not self.networks or not forwarded_for:
            return hop
        for entry in reversed(forwarded_for.split(",")):
            if not self.is_trusted(hop):
                return hop
            previous = _parse(entry)
            if previous is None:
                return hop
            hop = previous
        return hop

    def budget_key(self, peer: str | None, forwarded_for: str = "") -> str:
        """The client as budgets count it: an IPv4 address or an IPv6 /64."""
        address = self.client_address(peer, forwarded_for)
        if address is None:
            return "unknown"
        if isinstance(address, ipaddress.IPv6Address):
            return str(ipaddress.ip_network(f"{address}/{_IPV6_BUDGET_PREFIX}", strict=False))
        return str(address)
