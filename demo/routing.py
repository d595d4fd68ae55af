"""Which consumer handles which channel message (CHANNEL_LAYERS["default"]["ROUTING"])."""

from realtime.routing import route, route_class

from . import consumers

_CHAT = r"^/ws/chat/(?P<room>[-\w]{1,50})/$"

channel_routing = [
    route("websocket.receive", consumers.echo, path=r"^/ws/echo/$"),
    route("websocket.connect", consumers.chat_join, path=_CHAT),
    route("websocket.receive", consumers.chat_message, path=_CHAT),
    route("websocket.disconnect", consumers.chat_leave, path=_CHAT),
    route_class(consumers.Room, path=r"^/ws/rooms/(?P<room>[-\w]{1,50})/$"),
    route_class(consumers.LongTask, path=r"^/ws/tasks/$"),
]
