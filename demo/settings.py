"""Settings of the demo project.

With no environment set, everything runs in one process on the in-memory transport.
Set ``REALTIME_BROKER_URL`` (e.g. ``amqp://guest:guest@127.0.0.1:5672//``) to run on a
broker; Celery and the channel layer then share it.
"""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-insecure-secret-key")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "realtime",
    # before staticfiles: its runserver (the gateway with an embedded worker) replaces Django's
    "bridge",
    "django.contrib.staticfiles",
    "demo",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "demo.urls"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", BASE_DIR / "demo.sqlite3"),
        # The test database is a file: in-memory SQLite shared between threads (the presence
        # agent's and the test's) reports "table is locked" at once instead of waiting. One per
        # test run (the process that creates it), so runs side by side do not share it.
        "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"realtime-demo-test-{os.getpid()}.sqlite3")},
    }
}

USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = os.environ.get("REALTIME_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL.startswith("memory://")

# The channel layer uses CELERY_BROKER_URL unless CHANNEL_LAYERS names another URL.
# Rooms track who is in them (presence), in the database.
CHANNEL_LAYERS = {"default": {"CONFIG": {"presence_groups": ["room-*"]}, "ROUTING": "demo.routing.channel_routing"}}
