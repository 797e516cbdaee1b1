"""Where this server may send outbound HTTP (provider upstreams, plugin downloads).

`EGRESS_ALLOWED_NETWORKS` (comma-separated CIDRs, e.g. "127.0.0.0/8,10.1.0.0/16") limits every outbound request
to hosts that resolve into those networks; empty (the default) allows any host. Operators who expose model tests or
GitHub installs to less trusted API keys use it to keep the server from being aimed at their internal network.
"""

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings


class EgressRefused(ValueError):
    pass


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def check_url(url: str) -> None:
    """Raise EgressRefused unless every address `url`'s host resolves to lies in an allowed network."""
    allowed = _networks(getattr(settings, "EGRESS_ALLOWED_NETWORKS", ""))
    if not allowed:
        return
    host = urlsplit(url).hostname
    if not host:
        raise EgressRefused(f"{url!r} has no host")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressRefused(f"cannot resolve {host}") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not any(ip in network for network in allowed):
            raise EgressRefused(f"outbound requests to {host} ({ip}) are not allowed by EGRESS_ALLOWED_NETWORKS")
