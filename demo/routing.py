"""Which consumer handles which channel message (CHANNEL_LAYERS["default"]["ROUTING"])."""

from realtime.routing import route

from . import consumers

_ROOM = r"^/ws/chat/(?P<room>[-\w]{1,50})/$"

channel_routing = [
    route("websocket.receive", consumers.echo, path=r"^/ws/echo/$"),
    route("websocket.connect", consumers.chat_join, path=_ROOM),
    route("websocket.receive", consumers.chat_message, path=_ROOM),
    route("websocket.disconnect", consumers.chat_leave, path=_ROOM),
]
