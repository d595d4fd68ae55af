"""Builds and runs a gateway in an already monkey-patched process with Django configured."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence
from typing import Any

from .config import config_from_settings
from .server import Gateway, listen

__all__ = ["run_gateway"]

logger = logging.getLogger(__name__)


# At most one full collection per this many collections of the middle generation (CPython's
# default is 10).
_FULL_COLLECTION_EVERY = 100


def tune_garbage_collector() -> None:
    """Make CPython's full collections rarer and shorter.

    A full collection stops every socket for as long as it scans every object: about
    0.3 s at 5,000 open WebSockets, which are mostly long-lived objects. With CPython's
    defaults it ran about every 30 s there, stalling 1 % of the messages; the waits on quiet
    sockets keep promoting objects to the oldest generation. Young garbage is still
    collected as often as before. What start-up built (modules, Django's apps and URLs)
    lives as long as the process and is left out of full collections altogether.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _FULL_COLLECTION_EVERY)
    gc.freeze()


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
    tune_garbage_collector()
    try:
        gateway.serve_forever()
    finally:
        if worker is not None:
            worker.stop()
        layer.close()
    return 0
