"""Class-based consumers: a JSON chat for logged-in users, and two streams on one socket."""

from realtime.generic import JsonWebsocketConsumer, WebsocketDemultiplexer
from realtime.routing import route_class


class Chat(JsonWebsocketConsumer):
    http_user = True  # message.user: the browser's login, copied at connect
    strict_ordering = True

    def connection_groups(self, **kwargs):
        return ["chat"]  # joined after connect accepted, left at disconnect

    def connect(self, message, **kwargs):
        if not message.user.is_authenticated:
            self.close()  # refused: 403, and the socket never joins "chat"
            return
        super().connect(message, **kwargs)

    def receive(self, content, **kwargs):
        self.group_send("chat", {"user": self.message.user.username, "text": content["text"]})


class Echo(JsonWebsocketConsumer):
    def receive(self, content, **kwargs):
        self.send(content)  # inside the demultiplexer: {"stream": "echo", "payload": content}


class Status(JsonWebsocketConsumer):
    def connect(self, message, **kwargs):
        self.send({"online": True})


class Multiplexed(WebsocketDemultiplexer):
    consumers = {"echo": Echo, "status": Status}


channel_routing = [
    route_class(Chat, path=r"^/chat/$"),
    route_class(Multiplexed, path=r"^/multi/$"),
]
