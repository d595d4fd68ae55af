"""The gateway: the gevent HTTP and WebSocket interface server (``realtime-gateway``)."""

__all__: list[str] = []
