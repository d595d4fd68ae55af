"""The demo project's Celery app: ``celery -A demo worker``."""

import os

from celery import Celery

import tasks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

app = Celery("demo")
app.config_from_object("django.conf:settings", namespace="CELERY")
tasks.install(app)  # workers run channel consumers; the layer shares Celery's connections
app.autodiscover_tasks()
