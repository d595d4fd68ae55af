"""``manage.py rungateway``: ``realtime-gateway`` with this project's settings."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from bridge.cli import DEFAULT_BIND, add_gateway_arguments, configure_logging


class Command(BaseCommand):
    help = "Run the HTTP and WebSocket gateway (the same as realtime-gateway)."
    requires_system_checks: list[str] = []  # run after monkey-patching (see runserver)

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_gateway_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from bridge.patching import monkey_patch

        monkey_patch()
        configure_logging(options["log_level"])
        self.check(display_num_errors=True)
        from bridge.runner import run_gateway

        run_gateway(
            options["bind"] or [DEFAULT_BIND], embedded_worker=options["with_worker"], serve_static=options["static"]
        )
