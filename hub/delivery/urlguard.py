"""URL guard: webhook targets must be http(s); optionally no loopback/private/link-local hosts.

Checked when an endpoint is registered and again before every attempt (DNS answers change).
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from hub.errors import BadRequest

MAX_URL_LENGTH = 2048


class BlockedUrl(BadRequest):
    code = "url_not_allowed"


def validate_url(url: str, block_private: bool, field: str = "url") -> str:
    """The URL when it is an absolute http(s) URL (and public, if asked); BadRequest otherwise."""
    parts = urlsplit(url.strip()) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{field} must be an absolute http:// or https:// URL.", code="invalid_url")
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() for ch in url.strip()):
        raise BadRequest(f"{field} must be at most {MAX_URL_LENGTH} characters without spaces.",
                         code="invalid_url")
    try:
        parts.port
    except ValueError:
        raise BadRequest(f"{field} has an invalid port.", code="invalid_url") from None
    if block_private:
        assert_public_host(parts.hostname)
    return url.strip()


def is_private(address: str) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


def assert_public_host(host: str) -> None:
    """BlockedUrl unless every address `host` resolves to is public (HUB_BLOCK_PRIVATE_URLS)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise BlockedUrl(f"The host '{host}' does not resolve.") from None
    addresses = {info[4][0] for info in infos}
    blocked = sorted(a for a in addresses if is_private(a))
    if blocked:
        raise BlockedUrl(f"The host '{host}' resolves to a private or loopback address "
                         f"({', '.join(blocked)}); HUB_BLOCK_PRIVATE_URLS is on.")


def check_at_send_time(url: str, block_private: bool) -> None:
    """Re-check a stored URL before an attempt (only when private targets are blocked)."""
    if block_private:
        assert_public_host(urlsplit(url).hostname or "")
