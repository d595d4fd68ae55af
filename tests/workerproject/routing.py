"""Routing of the worker test project (``plugin.consumers`` is routed by its decorators)."""

from realtime.routing import include, route, route_class

from . import consumers

websocket_routing = [
    route("websocket.connect", consumers.ordered_connect, path=r"^/ordered/$"),
    route("websocket.receive", consumers.ordered_receive, path=r"^/ordered/$"),
    route("websocket.receive", consumers.echo, path=r"^/echo/$"),
    route("websocket.receive", consumers.slow, path=r"^/slow/$"),
    route("websocket.receive", consumers.later, path=r"^/later/$"),
]

channel_routing = [
    include(websocket_routing),
    route("test.fail", consumers.failing),
    route("chat-messages", consumers.chat_message_saver),
    route_class(consumers.Events),
]
