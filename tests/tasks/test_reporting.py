"""Tasks report progress and their final state to the socket that asked, on RabbitMQ:
started by a consumer (its reply channel) or by a view (the user's sockets), also after a
retry."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import websocket

from tasks import report_to

from ..brokers import AMQP_URL, require
from ..sites import Site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require(AMQP_URL)
    site = Site(tmp_path_factory.mktemp("reporting"))
    yield site
    site.close()


def reports(ws: websocket.WebSocket, until: str = "SUCCESS") -> list[dict]:
    """Task frames until one in state ``until`` (or FAILURE)."""
    frames = []
    while True:
        frame = json.loads(ws.recv())
        frames.append(frame)
        if frame["state"] in (until, "FAILURE"):
            return frames


def test_a_task_started_by_a_consumer_reports_to_its_socket(site: Site) -> None:
    ws = site.gateways[1].websocket("/tasks/")
    ws.send("3")
    frames = reports(ws)
    assert [f["state"] for f in frames] == ["STARTED", "PROGRESS", "PROGRESS", "PROGRESS", "SUCCESS"]
    assert [(f["current"], f["total"], f["meta"]) for f in frames[1:4]] == [
        (1, 3, {"step": "step 1"}),
        (2, 3, {"step": "step 2"}),
        (3, 3, {"step": "step 3"}),
    ]
    assert frames[-1]["result"] == 6
    assert {f["task"] for f in frames} == {"workerproject.crunch"}
    assert len({f["task_id"] for f in frames}) == 1
    ws.close()


def test_reports_continue_after_a_retry_and_failures_arrive(site: Site) -> None:
    ws = site.gateways[0].websocket("/tasks/")
    ws.send("1:1")  # fails once, then succeeds
    states = [f["state"] for f in reports(ws)]
    assert states == ["STARTED", "PROGRESS", "RETRY", "STARTED", "PROGRESS", "SUCCESS"]
    ws.send("-1")
    (*_, failure) = reports(ws)
    assert failure["state"] == "FAILURE"
    assert "negative steps" in failure["error"]
    ws.close()


def test_a_task_started_by_a_view_reports_to_the_users_sockets(site: Site) -> None:
    cookie = site.log_in("grace")
    sockets = [site.gateways[n].websocket("/me/", cookie=cookie) for n in range(2)]  # two tabs, two gateways
    other = site.gateways[0].websocket("/me/", cookie=site.log_in("ada"))
    status, task_id = site.post("/start-task/", {"steps": "2"}, cookie=cookie)
    assert status == 202
    for ws in sockets:
        frames = reports(ws)
        assert {f["task_id"] for f in frames} == {task_id.decode()}
        assert frames[-1]["result"] == 4
        ws.close()
    other.settimeout(0.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        other.recv()
    other.close()
    assert site.post("/start-task/", {"steps": "2"})[0] == 403


def test_report_to_takes_one_address() -> None:
    assert report_to(group="room") == {"realtime_report_to": {"group": "room"}}
    with pytest.raises(ValueError, match="exactly one"):
        report_to(group="a", channel="b")
