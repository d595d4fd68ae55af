"""The worker test project's Celery app: ``celery -A tests.workerproject worker -Q channels``."""

import os
import time

from celery import Celery

import tasks
from realtime import Group
from tasks import progress

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


@app.task(bind=True, name="workerproject.crunch")
def crunch(self: object, steps: int, failures: int = 0) -> int:
    """Reports each step; fails its first ``failures`` runs, to be retried."""
    for step in range(1, steps + 1):
        progress(step, steps, {"step": f"step {step}"})
    if self.request.retries < failures:  # type: ignore[attr-defined]
        raise self.retry(countdown=0.1)  # type: ignore[attr-defined]
    if steps < 0:
        raise ValueError("negative steps")
    return steps * 2


@app.task(name="workerproject.watched", realtime_events=True)
def watched(value: int) -> int:
    """A task whose lifecycle events sockets may subscribe to."""
    progress(1, 1)
    return value + 1


@app.task(name="workerproject.durable", acks_late=True, reject_on_worker_lost=True)
def durable(token: str, seconds: float) -> None:
    """An at-least-once task: it says each time it starts, and again when it ends."""
    from realtime import Channel

    Channel("test.durable").send({"token": token, "event": "started", "pid": os.getpid()})
    time.sleep(seconds)
    Channel("test.durable").send({"token": token, "event": "finished", "pid": os.getpid()})
