"""Routing of the worker test project (``plugin.consumers`` is routed by its decorators)."""

from realtime.routing import include, route, route_class

from . import consumers

websocket_routing = [
    route("websocket.connect", consumers.ordered_connect, path=r"^/ordered/$"),
    route("websocket.receive", consumers.ordered_receive, path=r"^/ordered/$"),
    route("websocket.receive", consumers.echo, path=r"^/echo/$"),
    route("websocket.receive", consumers.slow, path=r"^/slow/$"),
    route("websocket.receive", consumers.later, path=r"^/later/$"),
    route("websocket.receive", consumers.sleepy, path=r"^/sleepy/$"),
    route("websocket.connect", consumers.accept, path=r"^/accept/$"),
    route("websocket.receive", consumers.echo_frames, path=r"^/(?:accept|frames)/$"),
    route("websocket.connect", consumers.refuse, path=r"^/refuse/$"),
    route("websocket.connect", consumers.never_answer, path=r"^/silent/$"),
    route("websocket.connect", consumers.failing, path=r"^/failing/$"),
    route("websocket.receive", consumers.close_with, path=r"^/close/$"),
    route("websocket.receive", consumers.flood, path=r"^/flood/$"),
    route("websocket.connect", consumers.chat_join, path=r"^/chat/(?P<room>[a-z0-9]+)/$"),
    route("websocket.receive", consumers.chat_send, path=r"^/chat/(?P<room>[a-z0-9]+)/$"),
    route("websocket.disconnect", consumers.chat_leave, path=r"^/chat/(?P<room>[a-z0-9]+)/$"),
    route_class(consumers.Members, path=r"^/members/$"),
    route_class(consumers.Streams, path=r"^/streams/$"),
    route_class(consumers.Teams, path=r"^/teams/$"),
    route("websocket.receive", consumers.start_crunch, path=r"^/tasks/$"),
    route("websocket.receive", consumers.start_chain, path=r"^/canvas/$"),
    route("websocket.receive", consumers.later_expired, path=r"^/later-expired/$"),
    route_class(consumers.Me, path=r"^/me/$"),
    route("websocket.connect", consumers.watch, path=r"^/watch/$"),
    route("websocket.connect", consumers.room_join, path=r"^/room/(?P<room>[a-z]+)/$"),
    route("websocket.receive", consumers.room_say, path=r"^/room/(?P<room>[a-z]+)/$"),
    route("websocket.connect", consumers.presence_join, path=r"^/presence/(?P<room>[a-z]+)/$"),
    route("websocket.receive", consumers.presence_members, path=r"^/presence/(?P<room>[a-z]+)/$"),
    route("websocket.disconnect", consumers.disconnect_log),
]

http_routing = [
    route("http.request", consumers.http_stream, path=r"^/consumer/stream/$"),
    route("http.request", consumers.http_echo, path=r"^/consumer/echo/$"),
    route("http.request", consumers.http_long_poll, path=r"^/consumer/poll/$"),
    route("http.disconnect", consumers.http_disconnect),
]

channel_routing = [
    include(websocket_routing),
    include(http_routing),
    route("test.fail", consumers.failing),
    route("test.limited", consumers.limited),
    route("test.rate", consumers.rate_limited),
    route("test.flaky", consumers.flaky),
    route("chat-messages", consumers.chat_message_saver),
    route_class(consumers.Events),
]

# A project with no websocket.connect route at all (the gateway must still accept).
receive_only_routing = [route("websocket.receive", consumers.echo_frames)]
