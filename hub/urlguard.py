"""URL guard for every URL the hub fetches or POSTs to (webhooks, media URLs).

Always: an absolute http(s) URL, no userinfo (`user@host`), no backslash, no whitespace or
control characters. Parsers disagree on such URLs (`http://127.0.0.1:8111\\@1.1.1.1/` is
1.1.1.1 to urlsplit and 127.0.0.1 to requests), so the guard refuses them instead of guessing.

With HUB_BLOCK_PRIVATE_URLS the name is resolved ONCE, every address must be globally
routable (`is_public`), and the caller connects to the checked address (`Destination.address`)
while keeping the name for the Host header and TLS: a second resolution could answer
differently (DNS rebinding). Checked when an endpoint is registered and again before every
attempt (DNS answers change).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.errors import BadRequest

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
# Not globally routable, yet `is_global` on Python 3.11 says they are: 192.0.0.0/24 (IETF protocol
# assignments, 192.0.0.8 among them), IPv4-compatible ::a.b.c.d, local-use NAT64 (RFC 8215).
_NOT_GLOBAL = [ipaddress.ip_network(n) for n in ("192.0.0.0/24", "::/96", "64:ff9b:1::/48")]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the last 32 bits are the IPv4 address reached


class BlockedUrl(BadRequest):
    code = "url_not_allowed"


@dataclass(frozen=True)
class Destination:
    """A checked URL; `address` (guard on) is the one address the client must connect to."""

    scheme: str
    host: str  # the name in the URL: Host header, TLS SNI and certificate check
    port: int
    netloc: str  # the Host header's value
    target: str  # path and query, as sent on the request line
    address: str | None = None  # None: the guard is off and the client resolves `host` itself

    @property
    def https(self) -> bool:
        return self.scheme == "https"

    @property
    def connect_host(self) -> str:
        return self.address or self.host


def parse(url: str, field: str = "url") -> Destination:
    """The URL's parts when it is an absolute http(s) URL the guard accepts; BadRequest otherwise."""
    try:
        parts = urlsplit(url.strip()) if isinstance(url, str) else None
    except ValueError:  # a bracketed host that is no IPv6 address: http://[::zz]/
        parts = None
    if parts is None or parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise BadRequest(f"{field} must be an absolute http:// or https:// URL.", code="invalid_url")
    if len(url) > MAX_URL_LENGTH or any(ord(ch) <= 0x20 or ord(ch) == 0x7f for ch in url.strip()):
        raise BadRequest(f"{field} must be at most {MAX_URL_LENGTH} characters without spaces.",
                         code="invalid_url")
    if "\\" in url or "@" in parts.netloc:
        raise BadRequest(f"{field} must not contain a backslash or credentials (user@host).", code="invalid_url")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BadRequest(f"{field} has an invalid port.", code="invalid_url") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, parts.hostname, port, parts.netloc, target)


def check(url: str, block_private: bool, field: str = "url") -> Destination:
    """`parse`, and with `block_private` resolve the name once and pin a checked public address."""
    destination = parse(url, field)
    if not block_private:
        return destination
    address = public_addresses(destination.host, destination.port)[0]
    return Destination(**{**destination.__dict__, "address": address})


def validate_url(url: str, block_private: bool, field: str = "url") -> str:
    """The URL (stripped) when `check` accepts it: for registration, where nothing is fetched yet."""
    check(url, block_private, field)
    return url.strip()


def public_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; BlockedUrl unless all of them are public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BlockedUrl(f"The host '{host}' does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    blocked = sorted(a for a in addresses if not is_public(a))
    if blocked or not addresses:
        raise BlockedUrl(f"The host '{host}' resolves to a private, loopback or otherwise non-public address "
                         f"({', '.join(blocked)}); HUB_BLOCK_PRIVATE_URLS is on.")
    return addresses


def is_public(address: str) -> bool:
    """Globally routable unicast, including any IPv4 address embedded in an IPv6 one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast or any(ip in network for network in _NOT_GLOBAL):
        return False
    embedded = _embedded_ipv4(ip)
    return embedded is None or is_public(str(embedded))


def _embedded_ipv4(ip) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address reaches (Teredo is never global)."""
    if ip.version == 4:
        return None
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour
