"""A site for end-to-end tests: two gateways and a Celery worker on a broker (RabbitMQ unless
told) sharing one database file with users in it (ada is staff, grace is not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from .brokers import AMQP_URL
from .gateways import ROOT, GatewayProcess
from .workers import Setup

USERS = {"ada": "lovelace", "grace": "hopper"}


class Site:
    """Gateways and a worker sharing one database file, with users in it."""

    def __init__(self, tmp_path: Path, url: str = AMQP_URL, layer_config: dict[str, object] | None = None) -> None:
        self.database = tmp_path / "site.sqlite3"
        # Inherited by the workers and gateways:
        os.environ["REALTIME_TEST_DB"] = str(self.database)
        os.environ["REALTIME_TEST_LAYER_CONFIG"] = json.dumps(layer_config or {})
        self._django("migrate", "--verbosity", "0")
        create = "; ".join(
            f"User.objects.create_user({name!r}, password={pw!r}, is_staff={name == 'ada'})"
            for name, pw in USERS.items()
        )
        self._django("shell", "-c", f"from django.contrib.auth.models import User; {create}")
        self.setup = Setup(url, tmp_path)
        self.setup.worker(concurrency=4)
        self.gateways = [GatewayProcess(url, self.setup.prefix, tmp_path / f"gateway{n}.log").start() for n in range(2)]

    def _django(self, *args: str) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.workerproject.settings"}
        subprocess.run([sys.executable, "-m", "django", *args], cwd=ROOT, env=env, check=True, timeout=120)

    def post(self, path: str, fields: dict[str, str], cookie: str | None = None) -> tuple[int, bytes]:
        """POST a form to the first gateway; the status and body."""
        request = urllib.request.Request(f"{self.gateways[0].url}{path}", data=urllib.parse.urlencode(fields).encode())
        if cookie:
            request.add_header("Cookie", cookie)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()

    def log_in(self, user: str) -> str:
        """Log in through the login view (served by a gateway); the session cookie."""
        form = urllib.parse.urlencode({"username": user, "password": USERS[user]}).encode()
        with urllib.request.urlopen(f"{self.gateways[0].url}/login/", data=form, timeout=10) as response:
            assert response.read() == b"yes"
            cookie = response.headers["Set-Cookie"]
        return cookie.split(";")[0]

    def close(self) -> None:
        for gateway in self.gateways:
            gateway.stop()
        self.setup.close()
        os.environ.pop("REALTIME_TEST_DB", None)
        os.environ.pop("REALTIME_TEST_LAYER_CONFIG", None)
