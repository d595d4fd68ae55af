"""Builds and runs a gateway in an already monkey-patched process with Django configured."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .config import config_from_settings
from .server import Gateway, listen

__all__ = ["run_gateway"]

logger = logging.getLogger(__name__)


def run_gateway(
    binds: Sequence[str], *, embedded_worker: bool = False, serve_static: bool = False, **overrides: Any
) -> int:
    """Serve on ``binds`` until SIGTERM / SIGINT; returns the exit status.

    ``embedded_worker`` also runs the project's consumers in this process (development);
    ``serve_static`` serves ``STATIC_URL`` as Django's ``runserver`` does.
    """
    from django.core.wsgi import get_wsgi_application

    from realtime.layers import get_channel_layer

    app = get_wsgi_application()
    if serve_static:
        from django.contrib.staticfiles.handlers import StaticFilesHandler

        app = StaticFilesHandler(app)
    config = config_from_settings(**overrides)
    layer = get_channel_layer().sync
    gateway = Gateway(config, layer, app, [listen(bind, config.backlog) for bind in binds])
    worker = None
    if embedded_worker:
        from realtime.routing import Router

        from .dev import EmbeddedWorker

        worker = EmbeddedWorker(layer, Router.from_settings())
        worker.start()
    try:
        gateway.serve_forever()
    finally:
        if worker is not None:
            worker.stop()
        layer.close()
    return 0
