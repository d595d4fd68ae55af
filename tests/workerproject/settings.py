"""Settings of the worker test project; the broker and layer prefix come from the test."""

import json
import os

SECRET_KEY = "worker-tests-only"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "realtime",
    "bridge",
    "tests.workerproject",
    "tests.workerproject.plugin",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
ROOT_URLCONF = "tests.workerproject.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

PREFIX = os.environ.get("REALTIME_TEST_PREFIX", "realtime")
CELERY_BROKER_URL = os.environ.get("REALTIME_TEST_BROKER_URL", "memory://")
CELERY_TASK_DEFAULT_QUEUE = f"{PREFIX}-celery"  # test runs never share a Celery queue
CHANNEL_LAYERS = {
    "default": {
        # REALTIME_TEST_LAYER_CONFIG: more layer options from the test (JSON), e.g. a raised max_message_size.
        "CONFIG": {"prefix": PREFIX, **json.loads(os.environ.get("REALTIME_TEST_LAYER_CONFIG", "{}"))},
        "ROUTING": "tests.workerproject.routing.channel_routing",
        "QUEUES": {"chat-messages": "channels-chat"},
    }
}

# The gateway tests' limits, made small where a test must reach them quickly.
REALTIME_GATEWAY = {
    "http_consumer_paths": [r"^/consumer/"],
    "accept_timeout": 2.0,
    **json.loads(os.environ.get("REALTIME_TEST_GATEWAY", "{}")),
}
