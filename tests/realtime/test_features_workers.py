"""The Channels 1.x features end to end: two real gateways and a Celery worker (4 processes)
on RabbitMQ, and browser-like clients that log in over HTTP and connect with the session
cookie."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import websocket

from ..brokers import AMQP_URL, require
from ..sites import Site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require(AMQP_URL)
    site = Site(tmp_path_factory.mktemp("site"))
    yield site
    site.close()


def test_private_group_refuses_anonymous_and_names_members(site: Site) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        site.gateways[0].websocket("/members/")
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException):
        site.gateways[0].websocket("/members/", cookie="sessionid=forged")

    ada = site.gateways[0].websocket("/members/", cookie=site.log_in("ada"))
    grace = site.gateways[1].websocket("/members/", cookie=site.log_in("grace"))
    time.sleep(0.3)  # both have joined the group
    ada.send(json.dumps("hello"))
    grace.send(json.dumps("hi ada"))
    for ws in (ada, grace):
        got = [json.loads(ws.recv()) for _ in range(2)]
        # two connections' messages run in parallel: no order between them
        assert sorted((m["user"], m["said"]) for m in got) == [("ada", "hello"), ("grace", "hi ada")]
        ws.close()


def test_channel_session_follows_the_connection_across_worker_processes(site: Site) -> None:
    rooms = ["garden", "lobby", "attic", "cellar"]
    sockets = {room: site.gateways[n % 2].websocket(f"/room/{room}/") for n, room in enumerate(rooms)}
    answers = []
    for _ in range(6):  # four connections at once spread the messages over the processes
        for ws in sockets.values():
            ws.send("where am I?")
        for room, ws in sockets.items():
            answers.append((room, *ws.recv().split()))
    for ws in sockets.values():
        ws.close()
    assert all(room == remembered for room, remembered, _, _ in answers)
    assert any(joined_in != answered_in for _, _, joined_in, answered_in in answers), (
        "no message ran in another process than its connect"
    )


def test_demultiplexer_over_the_gateway(site: Site) -> None:
    ws = site.gateways[0].websocket("/streams/")
    ws.send(json.dumps({"stream": "shout", "payload": {"text": "quiet"}}))
    assert json.loads(ws.recv()) == {"stream": "shout", "payload": {"shout": "QUIET"}}
    ws.close()


def test_data_binding_across_gateways(site: Site) -> None:
    ada = site.gateways[0].websocket("/teams/", cookie=site.log_in("ada"))  # staff
    grace = site.gateways[1].websocket("/teams/", cookie=site.log_in("grace"))
    time.sleep(0.3)
    ada.send(json.dumps({"stream": "teams", "payload": {"action": "create", "data": {"name": "blue"}}}))
    for ws in (ada, grace):  # committed in a worker, announced to both gateways
        frame = json.loads(ws.recv())
        assert frame["stream"] == "teams"
        assert (frame["payload"]["action"], frame["payload"]["data"]) == ("create", {"name": "blue"})
    pk = frame["payload"]["pk"]
    grace.send(json.dumps({"stream": "teams", "payload": {"action": "delete", "pk": pk}}))
    refused = json.loads(grace.recv())
    assert refused["payload"]["error"].startswith("permission denied")
    ada.send(json.dumps({"stream": "teams", "payload": {"action": "delete", "pk": pk}}))
    for ws in (ada, grace):
        assert json.loads(ws.recv())["payload"]["action"] == "delete"
        ws.close()
