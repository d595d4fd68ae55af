"""The getting-started tutorial's final code: an echo, a chat with rooms for logged-in users, and
the same chat as a generic consumer class. In a project the consumers go in ``chat/consumers.py``
and ``channel_routing`` in ``mysite/routing.py``."""

from realtime import Group
from realtime.auth import channel_session_user, channel_session_user_from_http
from realtime.generic import JsonWebsocketConsumer
from realtime.routing import route, route_class
from realtime.sessions import enforce_ordering


def ws_accept(message):
    message.reply_channel.send({"accept": True})


def ws_echo(message):
    message.reply_channel.send({"text": message["text"]})


# The chat, as functions: /ws/chat/<room>/


@enforce_ordering(slight=True)
@channel_session_user_from_http
def ws_connect(message, room):
    if not message.user.is_authenticated:
        message.reply_channel.send({"close": True})  # refuses the handshake: HTTP 403
        return
    Group(f"chat-{room}").add(message.reply_channel)
    message.reply_channel.send({"accept": True})


@enforce_ordering(slight=True)
@channel_session_user
def ws_message(message, room):
    Group(f"chat-{room}").send({"text": f"{message.user.username}: {message['text']}"})


@enforce_ordering(slight=True)
@channel_session_user
def ws_disconnect(message, room):
    Group(f"chat-{room}").discard(message.reply_channel)


# The same chat as a class, with JSON frames: /ws/rooms/<room>/


class Room(JsonWebsocketConsumer):
    http_user = True  # message.user from the browser's login, on every message
    slight_ordering = True

    def connection_groups(self, room, **kwargs):
        return [f"room-{room}"]  # joined once connect has accepted, left at disconnect

    def connect(self, message, **kwargs):
        if not message.user.is_authenticated:
            self.close()  # refused (403): the socket never joins the group
            return
        super().connect(message, **kwargs)  # accepts

    def receive(self, content, room, **kwargs):
        self.group_send(f"room-{room}", {"user": self.message.user.username, "text": content["text"]})


# mysite/routing.py
ECHO = r"^/ws/echo/$"
CHAT = r"^/ws/chat/(?P<room>[a-zA-Z0-9_-]{1,50})/$"

channel_routing = [
    route("websocket.connect", ws_accept, path=ECHO),
    route("websocket.receive", ws_echo, path=ECHO),
    route("websocket.connect", ws_connect, path=CHAT),
    route("websocket.receive", ws_message, path=CHAT),
    route("websocket.disconnect", ws_disconnect, path=CHAT),
    route_class(Room, path=r"^/ws/rooms/(?P<room>[a-zA-Z0-9_-]{1,50})/$"),
]
