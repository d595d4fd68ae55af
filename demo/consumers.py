"""The demo's consumers (routed in demo.routing)."""

from typing import Any

from realtime import Group, presence
from realtime.generic import JsonWebsocketConsumer
from realtime.message import Message

from .models import ChatMessage
from .tasks import long_task

MAX_TEXT = 2000


def echo(message: Message) -> None:
    """Send each text frame back to the socket it came from."""
    message.reply_channel.send({"text": message["text"]})


# The benchmark contract's chat: each text frame, verbatim, to every socket in the room.


def chat_join(message: Message, room: str) -> None:
    Group(f"chat-{room}").add(message.reply_channel)


def chat_message(message: Message, room: str) -> None:
    Group(f"chat-{room}").send({"text": message["text"]})


def chat_leave(message: Message, room: str) -> None:
    Group(f"chat-{room}").discard(message.reply_channel)


class Room(JsonWebsocketConsumer):
    """A chat room for logged-in users: messages are saved, then sent to the room; the page
    lists who is here (presence) and hears them come and go."""

    http_user = True

    def connection_groups(self, room: str, **kwargs: Any) -> list[str]:
        return [f"room-{room}"]

    def connect(self, message: Message, room: str = "", **kwargs: Any) -> None:
        if not message.user.is_authenticated:
            self.close()  # 403: log in first
            return
        super().connect(message, room=room, **kwargs)
        group = Group(f"room-{room}")
        presence.subscribe(group.name, message.reply_channel)
        group.add(message.reply_channel, meta={"name": message.user.get_username()})
        self.send({"type": "presence.here", "members": [presence.public(m) for m in group.members()]})

    def receive(self, content: Any = None, room: str = "", **kwargs: Any) -> None:
        text = str(content.get("text", "") if isinstance(content, dict) else "").strip()[:MAX_TEXT]
        if text:
            saved = ChatMessage.objects.create(room=room, user=self.message.user, text=text)
            self.group_send(f"room-{room}", saved.as_json())


class LongTask(JsonWebsocketConsumer):
    """Starts demo.long_task; its progress comes back to this socket by itself."""

    def receive(self, content: Any = None, **kwargs: Any) -> None:
        steps = content.get("steps", 10) if isinstance(content, dict) else 10
        long_task.delay(steps)
