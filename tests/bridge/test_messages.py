"""Connection messages and reply interpretation (pure)."""

import pytest

from bridge.messages import (
    Accept,
    Close,
    InvalidReply,
    SendBytes,
    SendText,
    connect_message,
    disconnect_message,
    interpret_reply,
    receive_message,
)
from realtime.messages import validate_content


def test_connect_message_is_the_asgi1_shape_and_serialisable() -> None:
    message = connect_message(
        "websocket.send!gw.x", "/chat/lobby/", b"a=1", [(b"Cookie", b"s=1")], ("10.0.0.1", 5000), ("h", 80)
    )
    assert message == {
        "reply_channel": "websocket.send!gw.x",
        "path": "/chat/lobby/",
        "query_string": b"a=1",
        "headers": [[b"cookie", b"s=1"]],
        "client": ["10.0.0.1", 5000],
        "server": ["h", 80],
        "order": 0,
    }
    validate_content(message)


def test_receive_and_disconnect_messages() -> None:
    assert receive_message("r!g.x", "/p", 3, "hi") == {"reply_channel": "r!g.x", "path": "/p", "order": 3, "text": "hi"}
    assert receive_message("r!g.x", "/p", 4, b"\x00")["bytes"] == b"\x00"
    assert disconnect_message("r!g.x", "/p", 5, 1001) == {
        "reply_channel": "r!g.x",
        "path": "/p",
        "order": 5,
        "code": 1001,
    }


@pytest.mark.parametrize(
    ("content", "actions"),
    [
        ({"accept": True}, [Accept()]),
        ({"text": "hi"}, [SendText("hi")]),
        ({"bytes": b"\x01"}, [SendBytes(b"\x01")]),
        ({"close": True}, [Close(1000)]),
        ({"close": 4403}, [Close(4403)]),
        ({"close": 1008}, [Close(1008)]),
        ({"accept": True, "text": "welcome", "close": 1000}, [Accept(), SendText("welcome"), Close(1000)]),
        ({"accept": False}, []),
        ({"close": False, "text": ""}, [SendText("")]),
        ({"type": "chat.message", "other": 1}, []),
    ],
)
def test_interpret_reply(content: dict, actions: list) -> None:
    assert interpret_reply(content) == actions


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ({"text": "a", "bytes": b"b"}, "not both"),
        ({"text": b"bytes"}, "'text' must be a str"),
        ({"bytes": "text"}, "'bytes' must be bytes"),
        ({"close": 1006}, "close code 1006 cannot be sent"),
        ({"close": 1005}, "close code 1005 cannot be sent"),
        ({"close": 5000}, "close code 5000 cannot be sent"),
        ({"close": "yes"}, "'close' must be True"),
    ],
)
def test_invalid_replies(content: dict, says: str) -> None:
    with pytest.raises(InvalidReply, match=says):
        interpret_reply(content)
