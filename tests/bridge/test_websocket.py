"""The WebSocket session state machine, driven by a wsproto client (no sockets)."""

from __future__ import annotations

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

from bridge.websocket import (
    Closed,
    HandshakeRequest,
    IllegalTransition,
    MessageReceived,
    State,
    WebSocketSession,
)

LIMIT = 1024


class Peer:
    """A client and a server session, wired together in memory."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.client = WSConnection(ConnectionType.CLIENT)
        self.session = WebSocketSession(max_message_size=limit)

    def to_server(self, data: bytes | None) -> list:
        return self.session.receive_data(data)

    def to_client(self) -> list:
        self.client.receive_data(self.session.data_to_send())
        return list(self.client.events())

    def handshake(self, origin: str = "http://example.com") -> HandshakeRequest:
        request = Request(host="example.com", target="/chat/lobby/?a=1", extra_headers=[(b"Origin", origin.encode())])
        (event,) = self.to_server(self.client.send(request))
        assert isinstance(event, HandshakeRequest)
        return event

    def open(self) -> None:
        self.handshake()
        self.session.accept()
        assert isinstance(self.to_client()[0], AcceptConnection)


def test_handshake_is_reported_and_accepted() -> None:
    peer = Peer()
    request = peer.handshake(origin="https://example.com")
    assert (request.path, request.query_string, request.origin) == ("/chat/lobby/", b"a=1", "https://example.com")
    assert (b"origin", b"https://example.com") in request.headers
    assert peer.session.state is State.HANDSHAKE
    peer.session.accept()
    assert peer.session.state is State.OPEN
    assert isinstance(peer.to_client()[0], AcceptConnection)


def test_rejected_handshake_gets_the_status() -> None:
    peer = Peer()
    peer.handshake()
    peer.session.reject(403)
    (event, *_) = peer.to_client()
    assert isinstance(event, RejectConnection) and event.status_code == 403
    assert peer.session.state is State.CLOSED


def test_messages_both_ways_including_fragments() -> None:
    peer = Peer()
    peer.open()
    assert peer.to_server(peer.client.send(TextMessage("héllo"))) == [MessageReceived("héllo")]
    first = peer.client.send(BytesMessage(b"ab", message_finished=False))
    assert peer.to_server(first) == []
    assert peer.to_server(peer.client.send(BytesMessage(b"cd"))) == [MessageReceived(b"abcd")]
    peer.session.send("back")
    peer.session.send(b"\x00")
    assert [event.data for event in peer.to_client()] == ["back", b"\x00"]


def test_a_message_over_the_limit_closes_with_1009() -> None:
    peer = Peer()
    peer.open()
    assert peer.to_server(peer.client.send(BytesMessage(b"x" * (LIMIT + 1)))) == []
    assert peer.session.state is State.CLOSING
    (close,) = peer.to_client()
    assert isinstance(close, CloseConnection) and close.code == 1009
    # A fragmented message over the limit too, on a fresh connection.
    peer = Peer()
    peer.open()
    for _ in range(3):
        peer.to_server(peer.client.send(BytesMessage(b"x" * (LIMIT // 2), message_finished=False)))
    assert peer.session.state is State.CLOSING
    assert peer.to_client()[0].code == 1009


def test_the_peer_answering_our_close_ends_the_connection() -> None:
    peer = Peer()
    peer.open()
    peer.session.close(4403, "forbidden")
    (close,) = peer.to_client()
    assert (close.code, close.reason) == (4403, "forbidden")
    events = peer.to_server(peer.client.send(close.response()))
    assert events == [Closed(4403, "forbidden")]
    assert peer.session.state is State.CLOSED


def test_the_peer_closing_first_is_answered() -> None:
    peer = Peer()
    peer.open()
    assert peer.to_server(peer.client.send(CloseConnection(code=1001, reason="bye"))) == [Closed(1001, "bye")]
    assert peer.session.state is State.CLOSED
    assert isinstance(peer.to_client()[0], CloseConnection)


def test_invalid_utf8_closes_with_1007() -> None:
    peer = Peer()
    peer.open()
    payload = b"\xff\xfe"
    mask = b"\x01\x02\x03\x04"
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    (event,) = peer.to_server(frame)
    assert isinstance(event, Closed) and event.code == 1007
    assert peer.session.state is State.CLOSED
    (answer,) = peer.to_client()
    assert isinstance(answer, CloseConnection) and answer.code == 1007


def test_an_unmasked_client_frame_is_a_protocol_error() -> None:
    peer = Peer()
    peer.open()
    (event,) = peer.to_server(bytes([0x81, 0x02]) + b"hi")
    assert isinstance(event, Closed) and event.code == 1002
    (answer,) = peer.to_client()
    assert isinstance(answer, CloseConnection) and answer.code == 1002


def test_a_vanished_socket_is_abnormal_closure() -> None:
    peer = Peer()
    peer.open()
    assert peer.to_server(None) == [Closed(1006)]
    assert peer.to_server(b"late") == []


def test_a_malformed_handshake_is_refused() -> None:
    peer = Peer()
    events = peer.to_server(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")
    assert [type(event) for event in events] == [Closed]
    assert peer.session.data_to_send().startswith(b"HTTP/1.1 400")


def test_illegal_transitions_name_the_state_and_event() -> None:
    session = WebSocketSession(max_message_size=LIMIT)
    with pytest.raises(IllegalTransition, match="'accept' is not allowed in state None"):
        session.accept()
    peer = Peer()
    peer.open()
    with pytest.raises(IllegalTransition, match=r"'accept' is not allowed in state State\.OPEN"):
        peer.session.accept()


def test_pings_are_answered() -> None:
    peer = Peer()
    peer.open()
    assert peer.to_server(peer.client.send(Ping(b"k"))) == []
    (pong,) = peer.to_client()
    assert isinstance(pong, Pong) and pong.payload == b"k"
    peer.session.ping()
    assert [type(event) for event in peer.to_client()] == [Ping]


def test_a_ping_after_our_close_is_not_answered_and_does_not_raise() -> None:
    """Found by tests/fuzz/fuzz_protocols.py: a ping arriving once the session had sent its
    close frame made wsproto raise LocalProtocolError out of receive_data."""
    peer = Peer()
    peer.open()
    peer.session.close(1009)
    peer.session.data_to_send()
    mask = b"\x01\x02\x03\x04"
    ping = bytes([0x89, 0x80 | 2]) + mask + bytes(b ^ mask[i] for i, b in enumerate(b"hi"))
    assert peer.session.receive_data(ping) == []
    assert peer.session.data_to_send() == b""
