"""The demo's consumers: an echo socket and chat rooms (routed in demo.routing)."""

from realtime import Group
from realtime.message import Message


def echo(message: Message) -> None:
    """Send each text frame back to the socket it came from."""
    message.reply_channel.send({"text": message["text"]})


def chat_join(message: Message, room: str) -> None:
    Group(f"chat-{room}").add(message.reply_channel)


def chat_message(message: Message, room: str) -> None:
    """Broadcast the frame, verbatim, to every socket in the room, the sender's included."""
    Group(f"chat-{room}").send({"text": message["text"]})


def chat_leave(message: Message, room: str) -> None:
    Group(f"chat-{room}").discard(message.reply_channel)
