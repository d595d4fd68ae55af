"""The worker test project's Celery app: ``celery -A tests.workerproject worker -Q channels``."""

import os

from celery import Celery

import tasks
from realtime import Group

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.workerproject.settings")

app = Celery("workerproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
tasks.install(app)


@app.task(name="workerproject.broadcast")
def broadcast(group: str, text: str) -> None:
    """An ordinary Celery task that talks to a group."""
    Group(group).send({"text": text})


@app.task(name="workerproject.complete_long_polls")
def complete_long_polls(text: str) -> None:
    """Answer every held long-poll request (HTTP reply channels in the group)."""
    Group("long-poll").send({"status": 200, "headers": [["content-type", "text/plain"]], "content": text.encode()})
