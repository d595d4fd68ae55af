"""Settings of the worker test project; the broker and layer prefix come from the test."""

import json
import os

SECRET_KEY = "worker-tests-only"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "realtime",
    "bridge",  # before staticfiles: its runserver wins
    "django.contrib.staticfiles",
    "tests.workerproject",
    "tests.workerproject.plugin",
]
# REALTIME_TEST_DB: a database file the test's gateway and workers share (logins, sessions).
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("REALTIME_TEST_DB", ":memory:")}
}
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
USE_TZ = True
ROOT_URLCONF = "tests.workerproject.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The browser tests' page (templates/workerproject/) and realtime.js, served by ``realtime-gateway --static``.
STATIC_URL = "static/"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

PREFIX = os.environ.get("REALTIME_TEST_PREFIX", "realtime")
CELERY_BROKER_URL = os.environ.get("REALTIME_TEST_BROKER_URL", "memory://")
CELERY_TASK_DEFAULT_QUEUE = f"{PREFIX}-celery"  # test runs never share a Celery queue
CHANNEL_LAYERS = {
    "default": {
        # REALTIME_TEST_LAYER_CONFIG: more layer options from the test (JSON), e.g. a raised max_message_size.
        "CONFIG": {"prefix": PREFIX, **json.loads(os.environ.get("REALTIME_TEST_LAYER_CONFIG", "{}"))},
        "ROUTING": os.environ.get("REALTIME_TEST_ROUTING", "tests.workerproject.routing.channel_routing"),
        "QUEUES": {"chat-messages": "channels-chat"},
    }
}

# The gateway tests' limits, made small where a test must reach them quickly.
REALTIME_GATEWAY = {
    "http_consumer_paths": [r"^/consumer/"],
    "accept_timeout": 2.0,
    **json.loads(os.environ.get("REALTIME_TEST_GATEWAY", "{}")),
}

# The worker's metrics endpoint (host:port), when a test asks for it.
REALTIME_WORKER_METRICS = os.environ.get("REALTIME_TEST_WORKER_METRICS")
