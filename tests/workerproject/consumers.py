"""Consumers the worker tests route to."""

import json
import os
import random
import time

from django.contrib.auth.models import Group as Team

from realtime import Channel, Group, presence
from realtime.auth import channel_session_user_from_http
from realtime.binding import WebsocketBinding
from realtime.consumers import BaseConsumer
from realtime.generic import JsonWebsocketConsumer, WebsocketDemultiplexer
from realtime.message import Message
from realtime.sessions import channel_session
from realtime.task_options import task_options


def echo(message: Message) -> None:
    message.reply_channel.send({"text": message["text"], "pid": os.getpid()})


def ordered_connect(message: Message) -> None:
    time.sleep(0.3)  # slow on purpose: receives must still wait for it
    message.reply_channel.send({"text": "connected", "order": message["order"]})


def ordered_receive(message: Message) -> None:
    time.sleep(random.uniform(0, 0.02))
    message.reply_channel.send({"text": message["text"], "order": message["order"], "pid": os.getpid()})


def slow(message: Message) -> None:
    message.reply_channel.send({"text": "started", "pid": os.getpid()})
    time.sleep(float(message["seconds"]))
    message.reply_channel.send({"text": "finished"})


def failing(message: Message) -> None:
    raise ValueError("boom from the failing consumer")


def later(message: Message) -> None:
    Channel(message["reply_channel"]).send({"text": "later"}, countdown=1)
    message.reply_channel.send({"text": "scheduled", "at": time.time()})


def chat_message_saver(message: Message) -> None:
    message.reply_channel.send({"text": "chat " + message["text"]})


class Events(BaseConsumer):
    method_mapping = {"test.events": "other"}

    def chat_message(self, message: Message) -> None:
        message.reply_channel.send({"handled_by": "chat_message", "text": message["text"]})

    def other(self, message: Message) -> None:
        message.reply_channel.send({"handled_by": "other"})


# -- the gateway tests' consumers -------------------------------------------------------


def accept(message: Message) -> None:
    message.reply_channel.send({"accept": True})


def refuse(message: Message) -> None:
    message.reply_channel.send({"close": True})


def never_answer(message: Message) -> None:
    time.sleep(5)  # longer than the gateway's accept_timeout in these tests


def echo_frames(message: Message) -> None:
    if "bytes" in message.content:
        message.reply_channel.send({"bytes": message["bytes"]})
    else:
        message.reply_channel.send({"text": message["text"]})


def close_with(message: Message) -> None:
    message.reply_channel.send({"text": "bye", "close": int(message["text"])})


def flood(message: Message) -> None:
    for number in range(int(message["text"])):
        message.reply_channel.send({"text": f"{number:06d}" + "x" * 10_000})


def chat_join(message: Message, room: str) -> None:
    Group(f"chat-{room}").add(message.reply_channel)


def chat_send(message: Message, room: str) -> None:
    Group(f"chat-{room}").send({"text": message["text"]})


def chat_leave(message: Message, room: str) -> None:
    Group(f"chat-{room}").discard(message.reply_channel)


def disconnect_log(message: Message) -> None:
    Channel("test.disconnects").send({"path": message["path"], "code": message["code"]})


def http_stream(message: Message) -> None:
    message.reply_channel.send(
        {"status": 200, "headers": [["content-type", "text/plain"]], "content": b"one\n", "more_content": True}
    )
    message.reply_channel.send({"content": b"two\n", "more_content": True})
    message.reply_channel.send({"content": b"three\n"})


def http_echo(message: Message) -> None:
    body = message["method"].encode() + b" " + message["body"]
    message.reply_channel.send({"status": 201, "headers": [["content-type", "text/plain"]], "content": body})


def http_long_poll(message: Message) -> None:
    Group("long-poll").add(message.reply_channel)
    Channel("test.polls").send({"waiting": message["reply_channel"]})


def http_disconnect(message: Message) -> None:
    Channel("test.disconnects").send({"path": message["path"], "code": "http"})


# -- the Channels 1.x feature tests' consumers -------------------------------------------


class Members(JsonWebsocketConsumer):
    """Logged-in users only; every message goes to all members, with the sender's name."""

    http_user = True
    strict_ordering = True
    groups = ["members"]

    def connect(self, message: Message, **kwargs: object) -> None:
        if not message.user.is_authenticated:
            self.close()
            return
        super().connect(message, **kwargs)

    def receive(self, content: object = None, **kwargs: object) -> None:
        self.group_send("members", {"user": self.message.user.username, "said": content, "pid": os.getpid()})


@channel_session
def room_join(message: Message, room: str) -> None:
    message.channel_session["room"] = room
    message.channel_session["joined_in"] = os.getpid()


@channel_session
def room_say(message: Message, room: str) -> None:
    session = message.channel_session
    message.reply_channel.send({"text": f"{session['room']} {session['joined_in']} {os.getpid()}"})


class Shout(JsonWebsocketConsumer):
    def receive(self, content: object = None, **kwargs: object) -> None:
        assert isinstance(content, dict)
        self.send({"shout": str(content["text"]).upper()})


class Streams(WebsocketDemultiplexer):
    consumers = {"shout": Shout}


class TeamBinding(WebsocketBinding):
    """Auth groups, as "teams": everyone connected hears of changes; staff may make them."""

    model = Team
    stream = "teams"
    fields = ["name"]

    @classmethod
    def group_names(cls, instance: Team) -> list[str]:
        return ["teams"]

    def has_permission(self, user: object, action: str, pk: object) -> bool:
        return bool(getattr(user, "is_staff", False))


class Teams(WebsocketDemultiplexer):
    http_user = True
    groups = ["teams"]
    consumers = {"teams": TeamBinding.consumer}


# -- the task-reporting tests' consumers --------------------------------------------------


def start_crunch(message: Message) -> None:
    """``"3"`` runs crunch(3); ``"3:1"`` fails once first; ``"-1"`` fails for good."""
    from .celery import crunch

    steps, _, failures = message["text"].partition(":")
    crunch.delay(int(steps), int(failures or 0))


class Me(JsonWebsocketConsumer):
    """A logged-in user's socket: it joins the user's group, which their tasks report to."""

    http_user = True

    def connect(self, message: Message, **kwargs: object) -> None:
        if not message.user.is_authenticated:
            self.close()
            return
        super().connect(message, **kwargs)


def start_chain(message: Message) -> None:
    """Runs crunch(n) and tells the group chat-canvas how the chain ended."""
    from tasks import notify_group, notify_group_error

    from .celery import crunch

    (crunch.si(int(message["text"])) | notify_group("chat-canvas")).on_error(notify_group_error("chat-canvas")).delay()


def later_expired(message: Message) -> None:
    """A delayed send that expires before it is due: never delivered."""
    Channel(message["reply_channel"]).send({"text": "too late"}, countdown=1, expires=0.5)
    message.reply_channel.send({"text": "scheduled"})


# -- consumers with Celery's controls -----------------------------------------------------


@task_options(time_limit=1)
def limited(message: Message) -> None:
    message.reply_channel.send({"text": "started"})
    time.sleep(3)
    message.reply_channel.send({"text": "finished"})


@task_options(rate_limit="4/s")
def rate_limited(message: Message) -> None:
    message.reply_channel.send({"at": time.time()})


@task_options(autoretry_for=(ConnectionError,), default_retry_delay=0.1, max_retries=3)
def flaky(message: Message) -> None:
    from celery import current_task

    if current_task.request.retries < 2:
        raise ConnectionError("the CRM is down")
    message.reply_channel.send({"text": f"ok after {current_task.request.retries} retries"})


def watch(message: Message) -> None:
    """Subscribes the socket to every run of workerproject.watched."""
    from tasks import subscribe

    subscribe(message.reply_channel.name, task_name="workerproject.watched")
    message.reply_channel.send({"accept": True})


def sleepy(message: Message) -> None:
    """Sleeps the number of seconds sent as text, saying when it starts and ends."""
    message.reply_channel.send({"text": f"started {message['text']}"})
    time.sleep(float(message["text"]))
    message.reply_channel.send({"text": f"finished {message['text']}"})


@channel_session_user_from_http
def presence_join(message: Message, room: str) -> None:
    """Join ``presence-<room>`` under the user's name and watch who else comes and goes."""
    message.reply_channel.send({"accept": True})
    group = f"presence-{room}"
    presence.subscribe(group, message.reply_channel)
    Group(group).add(message.reply_channel, meta={"name": message.user.get_username()})


def presence_members(message: Message, room: str) -> None:
    names = sorted(str(member.meta.get("name")) for member in Group(f"presence-{room}").members())
    message.reply_channel.send({"text": json.dumps({"members": names})})
