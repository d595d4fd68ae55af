"""Worker queue routing of channels (pure)."""

from tasks.queues import DEFAULT_WORKER_QUEUE, served_channels, worker_queue_for

QUEUES = {"chat-*": "channels-chat", "http.request": "channels-http"}


def test_first_matching_pattern_wins_and_the_rest_go_to_channels() -> None:
    assert worker_queue_for("chat-messages", QUEUES) == "channels-chat"
    assert worker_queue_for("http.request", QUEUES) == "channels-http"
    assert worker_queue_for("websocket.receive", QUEUES) == DEFAULT_WORKER_QUEUE == "channels"


def test_a_worker_serves_the_channels_of_its_queues() -> None:
    channels = ["chat-messages", "http.request", "websocket.receive", "websocket.connect"]
    assert served_channels(channels, QUEUES, ["channels"]) == ["websocket.connect", "websocket.receive"]
    assert served_channels(channels, QUEUES, ["channels-chat", "celery"]) == ["chat-messages"]
    assert served_channels(channels, QUEUES, ["celery"]) == []
