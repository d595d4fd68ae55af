"""Model saves and deletes as channel messages, after commit."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import override_settings

from realtime import Group
from realtime.consumers import BaseConsumer
from realtime.model_events import send_model_events
from realtime.routing import route_class
from realtime.testing import Client

send_model_events(Permission, groups=lambda permission: [f"perms-{permission.content_type_id}"], fields=["name"])


class Watcher(BaseConsumer):
    method_mapping = {"test.watch": "watch"}

    def auth_permission_updated(self, message: object) -> None:
        assert self.message.reply_channel is not None
        self.message.reply_channel.send({"renamed": self.message["data"]["name"]})


@pytest.fixture(autouse=True)
def memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS={"default": {"URL": f"memory://events-{secrets.token_hex(4)}"}}):
        yield


@pytest.mark.django_db(transaction=True)
def test_saves_arrive_after_commit_and_dispatch_by_type() -> None:
    permission = Permission.objects.first()
    assert permission is not None
    client = Client([route_class(Watcher)])
    Group(f"perms-{permission.content_type_id}").add(client.reply_channel)

    with transaction.atomic():
        permission.name = "Can rename"
        permission.save()
        assert client.receive(timeout=0.2) is None  # not before the commit
    event = client.receive()
    assert event == {
        "type": "auth.permission.updated",
        "model": "auth.permission",
        "pk": permission.pk,
        "data": {"name": "Can rename"},
    }
    with transaction.atomic():
        permission.save()
        transaction.set_rollback(True)
    assert client.receive(timeout=0.2) is None

    # A class consumer gets the event as a method call.
    client.send_and_consume("test.watch", event)
    assert client.receive() == {"renamed": "Can rename"}
