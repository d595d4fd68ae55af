"""``manage.py runserver`` with WebSockets: the gateway and the consumers in one process.

Channels 1.x behaviour: no broker and no worker needed. Put ``"bridge"`` before
``"django.contrib.staticfiles"`` in ``INSTALLED_APPS`` for this command to replace
Django's (the first app that provides a command wins).
"""

from __future__ import annotations

import os
import re
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import autoreload

from bridge.cli import configure_logging

_ADDRPORT = re.compile(r"^(?:(?P<host>[^:\[\]]+|\[[0-9a-fA-F:]+\]):)?(?P<port>\d+)$")


class Command(BaseCommand):
    help = "Run the gateway with an embedded worker for development (gevent, WebSockets)."
    # Checked in the serving process, after monkey-patching: a database connection made
    # before it would belong to a thread that no longer exists once gevent runs.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="[HOST:]PORT (default 127.0.0.1:8000)"
        )
        parser.add_argument("--noworker", action="store_true", help="do not run consumers in this process")
        parser.add_argument("--noreload", action="store_true", help="do not restart on code changes")
        parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")

    def handle(self, *args: Any, **options: Any) -> None:
        match = _ADDRPORT.match(options["addrport"])
        if match is None:
            raise CommandError(f"{options['addrport']!r} is not a port or a HOST:PORT pair")
        bind = f"{match['host'] or '127.0.0.1'}:{match['port']}"
        configure_logging(options["log_level"])
        if options["noreload"] or os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) == "true":
            from bridge.patching import monkey_patch

            monkey_patch()  # in the serving process only, not in the reloader's parent

        def serve() -> None:
            from bridge.runner import run_gateway

            self.check(display_num_errors=True)
            self.check_migrations()

            run_gateway(
                [bind],
                embedded_worker=not options["noworker"],
                serve_static=settings.DEBUG and "django.contrib.staticfiles" in settings.INSTALLED_APPS,
            )

        if options["noreload"]:
            serve()
        else:
            autoreload.run_with_reloader(serve)
