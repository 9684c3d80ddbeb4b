"""Where webhooks may go: public http(s) addresses only, checked after resolving the host.

Every address the host resolves to is checked (an attacker's DNS may return a public and a
private one); the sender then connects to one of the checked addresses itself, so a second,
different DNS answer cannot slip in between check and connect. Loopback, private,
link-local, multicast, reserved, unspecified and other non-global addresses are refused
unless ``PIXSERVE_WEBHOOK_ALLOW_PRIVATE=true``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pixserve.core.errors import WebhookRefused
from pixserve.core.i18n import N_

#: host, port → the IP addresses (as text) the host resolves to.
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the system resolver; ``OSError`` if the name does not resolve."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True)
class Target:
    """A checked webhook URL and the addresses it may be reached at."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def refusal(address: str) -> str | None:
    """Why ``address`` is not a public address, or None if it is one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    return None if ip.is_global else "not global"


def check_target(
    url: str, *, allow_private: bool = False, resolver: Resolver = system_resolver
) -> Target:
    """Parse and resolve ``url``; raise ``WebhookRefused`` saying why it may not be called."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(
            N_("The webhook URL is longer than {limit} characters."), limit=MAX_URL_LENGTH
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(N_("The webhook URL must be an http:// or https:// URL with a host."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(N_("The webhook URL has an invalid port.")) from None
    host = parts.hostname
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookRefused(
            N_("The webhook host {host} does not resolve ({reason})."), host=host, reason=exc
        ) from None
    if not addresses:
        raise WebhookRefused(N_("The webhook host {host} does not resolve."), host=host)
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason:
                raise WebhookRefused(
                    N_(
                        "The webhook URL resolves to {address}, which is not a public address "
                        "({kind}); webhooks go to public addresses only."
                    ),
                    address=address,
                    kind=reason,
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses)
    )
