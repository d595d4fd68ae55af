"""The WSGI side of a plain HTTP request (pure): the environ Django's handler reads.

PEP 3333: ``PATH_INFO`` is the percent-decoded path as latin-1 text; each header becomes
``HTTP_<NAME>``. Headers whose name contains ``_`` are dropped, as Django's ``runserver``
and gunicorn do: ``X-Auth_User`` must not arrive disguised as ``X-Auth-User``.
"""

from __future__ import annotations

import sys
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from .http_head import RequestHead

__all__ = ["status_line", "wsgi_environ"]


def wsgi_environ(
    head: RequestHead,
    body: IO[bytes],
    client: tuple[str, int],
    server: tuple[str, int],
    scheme: str = "http",
) -> dict[str, Any]:
    """The WSGI environ for ``head``, reading the request body from ``body``."""
    path, _, query = head.target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": head.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{head.http_version}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in head.headers:
        if b"_" in name:
            continue
        text = value.decode("latin-1")
        if name == b"content-type":
            environ["CONTENT_TYPE"] = text
        elif name == b"content-length":
            environ["CONTENT_LENGTH"] = text
        else:
            key = "HTTP_" + name.decode("ascii").upper().replace("-", "_")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


def status_line(status: str) -> tuple[int, bytes]:
    """Split a WSGI status (``"404 Not Found"``) into code and reason.

    Raises:
        ValueError: the status does not start with a three-digit code.
    """
    code, _, reason = status.partition(" ")
    if len(code) != 3 or not code.isdigit():
        raise ValueError(f"invalid WSGI status {status!r}")
    return int(code), reason.encode("latin-1")
