"""The client behind a trusted reverse proxy: ``X-Forwarded-For`` and ``X-Forwarded-Proto``
(pure).

Only a connection from an address in ``forwarded_allow_ips`` may say who the client is;
anyone else could claim any address. The client is the last address in
``X-Forwarded-For`` that is not itself a trusted proxy (proxies append what they saw).
"""

from __future__ import annotations

from collections.abc import Iterable

from .http_head import RequestHead

__all__ = ["forwarded"]


def forwarded(client: tuple[str, int], head: RequestHead, trusted: Iterable[str]) -> tuple[tuple[str, int], str]:
    """The client address and scheme (``http``/``https``) of the request ``head`` that arrived
    from ``client``; as they are unless ``client`` is a trusted proxy."""
    proxies = set(trusted)
    if not proxies or ("*" not in proxies and client[0] not in proxies):
        return client, "http"
    scheme = "http"
    proto = head.header(b"x-forwarded-proto")
    if proto is not None and proto.split(b",")[0].strip().lower() in (b"https", b"wss"):
        scheme = "https"
    chain = head.header(b"x-forwarded-for")
    if chain is None:
        return client, scheme
    hops = [hop.strip() for hop in chain.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in proxies:
            return (hop, 0), scheme
    return ((hops[0], 0) if hops else client), scheme
