"""Data binding: model changes to groups after commit, client changes with permission checks."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client as HttpClient
from django.test import override_settings

from realtime import Group
from realtime.binding import WebsocketBinding
from realtime.generic import WebsocketDemultiplexer
from realtime.routing import route_class
from realtime.testing import Client


class TeamBinding(WebsocketBinding):
    """Auth groups ("teams") whose name starts with "public-" are announced to "teams"."""

    model = AuthGroup
    stream = "teams"
    fields = ["name"]

    @classmethod
    def group_names(cls, instance: Any) -> list[str]:
        return ["teams"] if instance.name.startswith("public-") else []

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        return bool(user.is_staff)


class Teams(WebsocketDemultiplexer):
    http_user = True
    groups = ["teams"]
    consumers = {"teams": TeamBinding.consumer}


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"URL": f"memory://binding-{secrets.token_hex(4)}"}}):
        yield


def frames(client: Client) -> list[dict]:
    received = []
    while (message := client.receive(timeout=0.2)) is not None:
        received.append(json.loads(message["text"]) if "text" in message else message)
    return received


@pytest.fixture
def listener() -> Client:
    client = Client([route_class(Teams)])
    Group("teams").add(client.reply_channel)
    return client


@pytest.mark.django_db(transaction=True)
def test_changes_are_sent_after_commit_and_follow_group_membership(listener: Client) -> None:
    with transaction.atomic():
        team = AuthGroup.objects.create(name="public-red")
        assert frames(listener) == []  # not before the commit
    created = {"stream": "teams", "payload": {"action": "create", "pk": team.pk, "data": {"name": "public-red"},
                                              "model": "auth.group"}}  # fmt: skip
    assert frames(listener) == [created]

    team.name = "public-blue"
    team.save()
    assert frames(listener)[0]["payload"]["action"] == "update"
    team.name = "secret"  # leaves the "teams" group: its members hear a delete
    team.save()
    assert [f["payload"]["action"] for f in frames(listener)] == ["delete"]
    team.name = "public-again"
    team.save()
    assert [f["payload"]["action"] for f in frames(listener)] == ["create"]
    team.delete()
    assert [f["payload"]["action"] for f in frames(listener)] == ["delete"]

    with transaction.atomic():
        AuthGroup.objects.create(name="public-rolled-back")
        transaction.set_rollback(True)
    assert frames(listener) == []


def connect(cookie: list[list[bytes]] | None = None) -> Client:
    client = Client([route_class(Teams)])
    client.send_and_consume("websocket.connect", {"path": "/", "headers": cookie or []})
    assert frames(client) == [{"accept": True}]
    return client


def logged_in(staff: bool) -> list[list[bytes]]:
    browser = HttpClient()
    browser.force_login(User.objects.create_user(f"user{secrets.token_hex(3)}", password="x", is_staff=staff))
    return [[b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()]]


def change(client: Client, action: str, pk: Any = None, data: Any = None) -> None:
    payload = {"action": action, "pk": pk, "data": data or {}}
    client.send_and_consume(
        "websocket.receive", {"path": "/", "text": json.dumps({"stream": "teams", "payload": payload})}
    )


@pytest.mark.django_db(transaction=True)
def test_staff_may_change_teams_through_the_socket() -> None:
    staff = connect(logged_in(staff=True))
    change(staff, "create", data={"name": "public-green"})
    team = AuthGroup.objects.get(name="public-green")
    assert frames(staff)[0]["payload"] == {"action": "create", "pk": team.pk, "data": {"name": "public-green"},
                                           "model": "auth.group"}  # fmt: skip
    change(staff, "update", team.pk, {"name": "public-lime"})
    assert AuthGroup.objects.get(pk=team.pk).name == "public-lime"
    change(staff, "delete", team.pk)
    assert not AuthGroup.objects.filter(pk=team.pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_others_are_refused(who: str) -> None:
    team = AuthGroup.objects.create(name="public-gold")
    client = connect(None if who == "anonymous" else logged_in(staff=False))
    frames(client)  # the creation notice
    for action, pk, data in [("create", None, {"name": "public-x"}), ("update", team.pk, {"name": "x"}),
                             ("delete", team.pk, None)]:  # fmt: skip
        change(client, action, pk, data)
        (answer,) = frames(client)
        assert answer["stream"] == "teams"
        assert answer["payload"]["error"].startswith("permission denied")
    assert list(AuthGroup.objects.values_list("name", flat=True)) == ["public-gold"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("action", "pk", "data", "error"),
    [
        ("explode", None, {}, "action must be one of"),
        ("update", 999999, {"name": "x"}, "no auth.group with pk 999999"),
        ("create", None, {"name": "x", "permissions": [1]}, "fields ['permissions'] cannot be set"),
        ("create", None, {"name": ""}, "invalid data"),
    ],
)
def test_bad_changes_are_answered_with_the_reason(action: str, pk: Any, data: Any, error: str) -> None:
    client = connect(logged_in(staff=True))
    change(client, action, pk, data)
    (answer,) = frames(client)
    assert error in answer["payload"]["error"]
