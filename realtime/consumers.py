"""Class-based consumers: ``method_mapping`` (Channels 1.x) and ``type`` dispatch (Channels 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from .message import Message

__all__ = ["BaseConsumer"]


class BaseConsumer:
    """A consumer class: each message creates an instance, which calls one handler.

    The handler is chosen by the message's ``type`` if it has one (``{"type": "chat.message"}``
    calls ``chat_message``, as in Channels 4), else by ``method_mapping`` from the channel name
    (``{"websocket.receive": "receive"}``, as in Channels 1.x). Route it with
    ``route_class(MyConsumer)``; it consumes the channels named in ``method_mapping``.
    """

    method_mapping: ClassVar[dict[str, str]] = {}

    def __init__(self, message: Message, **kwargs: Any) -> None:
        self.message = message
        self.kwargs = kwargs
        self.channel_layer = message.channel_layer
        self.get_handler(message)(message, **kwargs)

    @classmethod
    def channel_names(cls) -> set[str]:
        """The channels this consumer is routed to by ``route_class``."""
        return set(cls.method_mapping)

    def get_handler(self, message: Message) -> Callable[..., Any]:
        """The bound method that handles ``message``.

        Raises:
            ValueError: no handler fits, or the ``type`` names a private method.
        """
        event_type = message.content.get("type")
        if isinstance(event_type, str):
            name = event_type.replace(".", "_")
            if name.startswith("_"):
                raise ValueError(f"malformed message type {event_type!r}: a leading underscore is not allowed")
            handler = getattr(self, name, None)
            if callable(handler):
                return handler
        name = self.method_mapping.get(message.channel.name, "")
        handler = getattr(self, name, None) if name else None
        if not callable(handler):
            raise ValueError(
                f"{type(self).__name__} has no handler for type {event_type!r} on channel {message.channel.name!r}"
            )
        return handler
