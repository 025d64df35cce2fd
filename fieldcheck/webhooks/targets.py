"""Which URLs a webhook may be sent to, and a ``requests`` session that holds to it.

Only http(s) URLs with a host. Unless ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` is on, every address
the host resolves to must be a public one: loopback, private, link-local (cloud metadata at
169.254.169.254), shared, multicast, unspecified and reserved addresses are refused. Checked
when an endpoint is registered or changed, and again at every delivery: DNS may change after
registration. At delivery the check happens inside the connection itself (``_GuardedMixin``
resolves, checks and connects to the checked address), so a name cannot resolve to a public
address for the check and a private one for the request (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from fieldcheck.i18n import N_


class TargetRefused(Exception):
    """The URL may not receive webhooks; ``message`` is a msgid for the person who gave it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


NOT_HTTP = N_("Only http:// and https:// URLs with a host name can receive webhooks.")
#: Names the setting and its environment variable: the admin who meets this refusal (a test
#: receiver on the LAN, a partner on a VPN) is often not the operator, and needs words to ask with.
PRIVATE = N_(
    "This address is private, loopback, link-local or reserved; webhooks may only go to "
    "public addresses. The server operator can allow such targets with the setting "
    "webhooks.allow_private_targets (environment variable "
    "FIELDCHECK_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true)."
)
UNRESOLVED = N_("The host name of this URL could not be resolved.")


def is_public(address: str) -> bool:
    """True for an address on the public internet (not private, loopback, link-local, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def check_url_form(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL with a host, else TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(NOT_HTTP) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(NOT_HTTP)
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(NOT_HTTP)  # credentials in the URL would be logged and shown
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve_checked(host: str, port: int, allow_private: bool) -> list[tuple]:
    """The addresses (getaddrinfo tuples) of ``host`` that may be connected to; TargetRefused
    when it does not resolve or (unless ``allow_private``) any address is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # gaierror is an OSError; NUL: ValueError
        raise TargetRefused(UNRESOLVED) from None
    if not infos:
        raise TargetRefused(UNRESOLVED)
    # Every address, not just the first: a client may try any of them.
    if not allow_private and not all(is_public(info[4][0]) for info in infos):
        raise TargetRefused(PRIVATE)
    return infos


def check_target(url: str, allow_private: bool) -> None:
    """Refuse (TargetRefused) a URL that may not receive webhooks under the configuration."""
    host, port = check_url_form(url)
    resolve_checked(host, port, allow_private)


class _GuardedMixin:
    """Resolve the host, check every address, and connect to a checked one: the connection never
    looks the name up a second time (TLS still verifies the certificate against the name)."""

    allow_private = False

    def _new_conn(self):  # urllib3's hook that opens the socket
        infos = resolve_checked(self.host, self.port, self.allow_private)
        self._dns_host = infos[0][4][0]
        return super()._new_conn()


def guarded_session(allow_private: bool) -> requests.Session:
    """A session that connects only to addresses ``check_target`` allows, ignores proxy
    variables of the environment (a proxy would connect for us, unchecked) and follows no
    redirect (the sender passes ``allow_redirects=False``)."""
    guard = {"allow_private": allow_private}
    http_conn = type("GuardedHTTPConnection", (_GuardedMixin, HTTPConnection), guard)
    https_conn = type("GuardedHTTPSConnection", (_GuardedMixin, HTTPSConnection), guard)
    http_pool = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn})
    https_pool = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}

    session = requests.Session()
    session.trust_env = False
    session.max_redirects = 0
    adapter = GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
