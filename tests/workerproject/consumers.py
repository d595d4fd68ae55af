"""Consumers the worker tests route to."""

import os
import random
import time

from realtime import Channel
from realtime.consumers import BaseConsumer
from realtime.message import Message


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
