"""The ``realtime-gateway`` command: the gateway as a process of its own.

gevent's monkey-patching happens first, before Django, Kombu or any socket is imported.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

__all__ = ["add_gateway_arguments", "configure_logging", "main"]

DEFAULT_BIND = "127.0.0.1:8000"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def add_gateway_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``realtime-gateway`` and ``manage.py rungateway`` share."""
    parser.add_argument(
        "--bind", "-b", action="append", metavar="ADDRESS",
        help=f"HOST:PORT (port 0: any free port) or unix:/PATH to listen on; repeatable (default {DEFAULT_BIND})",
    )  # fmt: skip
    parser.add_argument(
        "--with-worker", action="store_true",
        help="also run the project's consumers in this process (development; no Celery worker needed)",
    )  # fmt: skip
    parser.add_argument(
        "--static", action="store_true",
        help="serve STATIC_URL from the apps' static files, as runserver does (development)",
    )  # fmt: skip
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (access lines included) unless logging is configured already."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, stream=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``realtime-gateway``."""
    from .patching import monkey_patch

    monkey_patch()
    parser = argparse.ArgumentParser(prog="realtime-gateway", description="The HTTP and WebSocket gateway.")
    add_gateway_arguments(parser)
    parser.add_argument("--settings", help="the Django settings module (default: $DJANGO_SETTINGS_MODULE)")
    args = parser.parse_args(argv)
    if args.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        parser.error("no Django settings: pass --settings or set DJANGO_SETTINGS_MODULE")
    configure_logging(args.log_level)
    sys.path.insert(0, os.getcwd())

    import django

    django.setup()
    from .runner import run_gateway

    return run_gateway(args.bind or [DEFAULT_BIND], embedded_worker=args.with_worker, serve_static=args.static)


if __name__ == "__main__":
    sys.exit(main())
