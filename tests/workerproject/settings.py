"""Settings of the worker test project; the broker and layer prefix come from the test."""

import os

SECRET_KEY = "worker-tests-only"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "realtime",
    "tests.workerproject",
    "tests.workerproject.plugin",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True

PREFIX = os.environ.get("REALTIME_TEST_PREFIX", "realtime")
CELERY_BROKER_URL = os.environ.get("REALTIME_TEST_BROKER_URL", "memory://")
CELERY_TASK_DEFAULT_QUEUE = f"{PREFIX}-celery"  # test runs never share a Celery queue
CHANNEL_LAYERS = {
    "default": {
        "CONFIG": {"prefix": PREFIX},
        "ROUTING": "tests.workerproject.routing.channel_routing",
        "QUEUES": {"chat-messages": "channels-chat"},
    }
}
