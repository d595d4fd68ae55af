"""Chat rooms by URL, with the user's name: channel sessions, users and ordering."""

from realtime import Group
from realtime.auth import channel_session_user, channel_session_user_from_http
from realtime.routing import route
from realtime.sessions import enforce_ordering


@enforce_ordering(slight=True)
@channel_session_user_from_http
def ws_connect(message, room):
    if not message.user.is_authenticated:
        message.reply_channel.send({"close": True})  # refuses the handshake (403)
        return
    message.channel_session["room"] = room
    Group(f"chat-{room}").add(message.reply_channel)
    message.reply_channel.send({"accept": True})


@enforce_ordering(slight=True)
@channel_session_user
def ws_message(message, room):
    Group(f"chat-{message.channel_session['room']}").send({"text": f"{message.user.username}: {message['text']}"})


@enforce_ordering(slight=True)
@channel_session_user
def ws_disconnect(message, room):
    Group(f"chat-{message.channel_session['room']}").discard(message.reply_channel)


ROOM = r"^/rooms/(?P<room>[a-z0-9-]+)/$"
channel_routing = [
    route("websocket.connect", ws_connect, path=ROOM),
    route("websocket.receive", ws_message, path=ROOM),
    route("websocket.disconnect", ws_disconnect, path=ROOM),
]
