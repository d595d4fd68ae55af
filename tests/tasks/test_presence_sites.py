"""Presence end to end: two gateways and a 4-process Celery worker on RabbitMQ and on Redis,
users logged in through a Django view. Members and events are correct across gateways, and
the members of a gateway killed with SIGKILL leave within the documented bound
(``owner_timeout`` + a third of it)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import websocket

from ..brokers import AMQP_URL, REDIS_URL, require
from ..sites import Site

OWNER_TIMEOUT = 3.0
BOUND = OWNER_TIMEOUT * 4 / 3


@pytest.fixture(params=["amqp", "redis"])
def site(request: pytest.FixtureRequest, tmp_path) -> Iterator[Site]:
    url = {"amqp": AMQP_URL, "redis": REDIS_URL}[request.param]
    require(url)
    site = Site(tmp_path, url, {"presence_groups": ["presence-*"], "owner_timeout": OWNER_TIMEOUT})
    yield site
    site.close()


def next_event(ws: websocket.WebSocket, timeout: float = 10) -> dict:
    """The next presence event on ``ws`` (skipping nothing: every frame here is one)."""
    ws.settimeout(timeout)
    frame = json.loads(ws.recv())
    assert frame["type"] in ("presence.join", "presence.leave"), frame
    return frame


def members(ws: websocket.WebSocket) -> list[str]:
    """Ask the worker for the room's members (their names); presence events before the
    answer are skipped."""
    ws.send("members?")
    while "members" not in (frame := json.loads(ws.recv())):
        pass
    return frame["members"]


@pytest.mark.broker
@pytest.mark.timeout(180)
def test_members_and_events_across_gateways_and_a_killed_gateway(site: Site) -> None:
    ada = site.gateways[0].websocket("/presence/lobby/", cookie=site.log_in("ada"))
    joined = next_event(ada)
    assert (joined["type"], joined["meta"], joined["reason"]) == ("presence.join", {"name": "ada"}, "join")
    assert joined["user"] is not None and "channel" not in joined  # the socket never sees channel names

    grace = site.gateways[1].websocket("/presence/lobby/", cookie=site.log_in("grace"))
    assert next_event(ada)["meta"] == {"name": "grace"}
    assert members(ada) == ["ada", "grace"] == members(grace)

    visitor = site.gateways[0].websocket("/presence/lobby/")  # anonymous: no user
    assert next_event(ada)["user"] is None
    visitor.close()
    left = next_event(ada)
    assert (left["type"], left["reason"], left["meta"]) == ("presence.leave", "disconnect", {"name": ""})

    site.gateways[1].kill()  # SIGKILL: grace's gateway says nothing
    grace.close()
    killed = time.monotonic()
    hidden_after = None
    while hidden_after is None:
        names = members(ada)
        if names == ["ada"]:
            hidden_after = time.monotonic() - killed
        else:
            assert time.monotonic() - killed < BOUND + 2, names
            time.sleep(0.2)
    left = next_event(ada, timeout=BOUND + 2)
    announced_after = time.monotonic() - killed
    assert (left["type"], left["reason"], left["member"]) == ("presence.leave", "gateway_lost", left["member"])
    print(f"killed gateway's member hidden after {hidden_after:.2f} s, announced after {announced_after:.2f} s")
    assert hidden_after <= OWNER_TIMEOUT + 1.5 and announced_after <= BOUND + 1.5
    ada.close()
