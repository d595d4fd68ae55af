"""Generic consumers (Channels 1.x ``channels.generic``)."""

from ..consumers import BaseConsumer
from .websockets import JsonWebsocketConsumer, WebsocketConsumer, WebsocketDemultiplexer, WebsocketMultiplexer

__all__ = [
    "BaseConsumer",
    "JsonWebsocketConsumer",
    "WebsocketConsumer",
    "WebsocketDemultiplexer",
    "WebsocketMultiplexer",
]
