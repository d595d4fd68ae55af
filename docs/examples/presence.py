"""Who is in a room, across every gateway: presence (docs/celery.rst).

Needs ``"presence_groups": ["room-*"]`` in the layer's CONFIG, and ``manage.py migrate``.
"""

import json

from realtime import Group, presence
from realtime.auth import channel_session_user_from_http
from realtime.routing import route


@channel_session_user_from_http
def join(message, room):
    message.reply_channel.send({"accept": True})
    group = f"room-{room}"
    presence.subscribe(group, message.reply_channel)  # joins and leaves arrive as JSON text
    Group(group).add(message.reply_channel, meta={"name": message.user.get_username()})


def who_is_here(message, room):
    names = sorted({member.meta["name"] for member in Group(f"room-{room}").members()})
    message.reply_channel.send({"text": json.dumps({"here": names})})


def log_activity(message):
    """Subscribed with ``presence.subscribe("room-tea", "room-activity")``: runs in a worker."""
    print(message["type"], message["group"], message["user"], message["reason"])


channel_routing = [
    route("websocket.connect", join, path=r"^/rooms/(?P<room>[a-z]+)/$"),
    route("websocket.receive", who_is_here, path=r"^/rooms/(?P<room>[a-z]+)/$"),
    route("room-activity", log_activity),
]
