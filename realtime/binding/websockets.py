"""Data binding over a demultiplexed WebSocket (Channels 1.x ``WebsocketBinding``).

Clients see ``{"stream": stream, "payload": {"action", "pk", "data", "model"}}`` frames and
send ``{"stream": stream, "payload": {"action", "pk", "data"}}`` to change a model; a refused
change is answered on the stream with ``{"error": ..., "action", "pk"}``::

    class PriceBinding(WebsocketBinding):
        model = Price
        stream = "prices"
        fields = ["name", "value"]

        @classmethod
        def group_names(cls, instance):
            return ["prices"]

        def has_permission(self, user, action, pk):
            return user.has_perm(f"shop.{action}_price")

    class Shop(WebsocketDemultiplexer):
        http_user = True
        consumers = {"prices": PriceBinding.consumer}
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from django.contrib.auth.models import AnonymousUser

from ..generic.websockets import WebsocketMultiplexer
from ..message import Message
from .base import Binding, BindingError

__all__ = ["WebsocketBinding"]

logger = logging.getLogger(__name__)


class WebsocketBinding(Binding):
    """A binding whose messages are stream frames of a :class:`WebsocketDemultiplexer`."""

    #: The demultiplexer stream this binding speaks on.
    stream: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.model is not None and not cls.stream:
            raise TypeError(f"{cls.__name__} binds {cls.model.__name__} but names no stream")
        super().__init_subclass__(**kwargs)

    @classmethod
    def encode(cls, payload: dict[str, Any]) -> dict[str, Any]:
        assert cls.stream is not None
        return WebsocketMultiplexer.encode(cls.stream, payload)

    @classmethod
    def consumer(cls, message: Message, multiplexer: WebsocketMultiplexer | None = None, **kwargs: Any) -> None:
        """The demultiplexer's consumer for this binding's stream: applies received changes
        (``connect`` and ``disconnect`` need nothing)."""
        if message.channel.name != "websocket.receive" or multiplexer is None:
            return
        payload = json.loads(message["text"])
        binding = cls(message.user if message.user is not None else AnonymousUser())
        try:
            binding.apply(payload.get("action"), payload.get("pk"), payload.get("data", {}))
        except BindingError as error:
            logger.info("%s refused %s: %s", cls.__name__, message.reply_channel, error)
            multiplexer.send({"error": str(error), "action": payload.get("action"), "pk": payload.get("pk")})
