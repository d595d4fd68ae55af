"""Consumers routed by their decorator alone."""

from realtime.message import Message
from realtime.routing import consumer


@consumer("test.decorated", kind=r"^(?P<kind>[a-z]+)$")
def decorated(message: Message, kind: str) -> None:
    message.reply_channel.send({"decorated": kind})
