"""Whether a host is this machine: the one place the API and the CLI client decide it.

Both trust loopback only: the API fetches JWKS keys over plain http only from it, and the CLI
sends the development token only to it.
"""

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1; False for any other name or no host."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
