"""What only a Celery-integrated system does, end to end on RabbitMQ: tasks report to the
socket that asked (started by a consumer or a view, also after a retry), canvases notify a
group, sockets are closed everywhere, delayed sends expire, beat entries send."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import websocket
from celery import Celery
from celery.schedules import crontab

from realtime.exceptions import InvalidGroupName
from tasks import periodic_send, report_to

from ..brokers import AMQP_URL, require
from ..gateways import close_code
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


def test_a_chain_notifies_a_group_with_its_result_or_its_error(site: Site) -> None:
    listener = site.gateways[0].websocket("/chat/canvas/")
    starter = site.gateways[1].websocket("/canvas/")
    time.sleep(0.3)
    starter.send("5")
    assert json.loads(listener.recv()) == {"type": "tasks.done", "result": 10}
    starter.send("-1")
    failed = json.loads(listener.recv())
    assert failed["type"] == "tasks.failed" and "negative steps" in failed["error"]
    listener.close()
    starter.close()


def test_disconnect_a_user_everywhere(site: Site) -> None:
    cookie = site.log_in("grace")
    tabs = [site.gateways[n].websocket("/me/", cookie=cookie) for n in range(2)]
    bystander = site.gateways[0].websocket("/me/", cookie=site.log_in("ada"))
    time.sleep(0.3)
    assert site.post("/disconnect-me/", {}, cookie=cookie) == (200, b"closed")
    assert [close_code(ws) for ws in tabs] == [4001, 4001]
    bystander.send(json.dumps("still here?"))  # its socket is open: no error
    bystander.close()
    for ws in tabs:
        ws.shutdown()


def test_a_delayed_send_past_its_expiry_is_dropped(site: Site) -> None:
    ws = site.gateways[0].websocket("/later-expired/")
    ws.send("go")
    assert ws.recv() == "scheduled"
    ws.settimeout(2.5)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.close()


def test_periodic_send_entries() -> None:
    entry = periodic_send(group="clock", content={"text": "tick"}, schedule=60.0)
    assert entry == {
        "task": "realtime.deliver",
        "schedule": 60.0,
        "args": ("group", "clock", {"text": "tick"}),
        "options": {"serializer": "msgpack", "expires": 60.0},
    }
    assert "expires" not in periodic_send(channel="news", content={}, schedule=crontab(hour=8))["options"]
    with pytest.raises(ValueError, match="exactly one"):
        periodic_send(content={}, schedule=1.0)
    with pytest.raises(InvalidGroupName):
        periodic_send(group="bad name", content={}, schedule=1.0)


def test_sockets_subscribe_to_a_tasks_lifecycle_by_name(site: Site) -> None:
    watchers = [site.gateways[n].websocket("/watch/") for n in range(2)]
    bystander = site.gateways[0].websocket("/frames/")
    client = Celery("client", broker=AMQP_URL, set_as_current=False)
    result = client.send_task("workerproject.watched", (41,), queue=f"{site.setup.prefix}-celery")
    client.close()
    for ws in watchers:
        frames = reports(ws)
        assert [f["state"] for f in frames] == ["STARTED", "PROGRESS", "SUCCESS"]
        assert frames[-1]["result"] == 42 and frames[-1]["task_id"] == result.id
        ws.close()
    bystander.settimeout(0.3)
    with pytest.raises(websocket.WebSocketTimeoutException):
        bystander.recv()
    bystander.close()
