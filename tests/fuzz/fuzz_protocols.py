"""Coverage-guided fuzzing of the pure protocol code (RELIABILITY.md T5), with atheris.

One input exercises one target, chosen by its first byte: the HTTP head parser, the
WebSocket session after a handshake, the frame-size guard, and the channel layer's message
decoder. Only their documented exceptions are allowed (``HeadError``, ``InvalidMessage``);
anything else is a crash, which atheris reports with the input that caused it. Run::

    .venv/bin/python tests/fuzz/fuzz_protocols.py -max_total_time=600 tests/fuzz/corpus
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import h11  # noqa: F401 - instrumented for coverage
    import wsproto  # noqa: F401

    from bridge.frame_guard import DeclaredSizeGuard
    from bridge.http_head import HeadError, find_head_end, parse_request_head
    from bridge.websocket import HandshakeRequest, WebSocketSession
    from realtime.exceptions import InvalidMessage
    from realtime.messages import decode

HANDSHAKE = (
    b"GET /chat/ HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n"
)


def http_head(data: bytes) -> None:
    try:
        end = find_head_end(data, 16 * 1024)
        if end is not None:
            parse_request_head(data[:end], 100)
    except HeadError:
        pass


def websocket_session(provider: atheris.FuzzedDataProvider) -> None:
    session = WebSocketSession(max_message_size=4096)
    events = session.receive_data(HANDSHAKE)
    assert any(isinstance(event, HandshakeRequest) for event in events)
    session.accept()
    session.data_to_send()
    while provider.remaining_bytes():
        chunk = provider.ConsumeBytes(provider.ConsumeIntInRange(1, 512))
        session.receive_data(chunk)
        if provider.ConsumeBool():
            session.send(provider.ConsumeUnicodeNoSurrogates(20))
        session.data_to_send()
    session.receive_data(None)  # the socket closes


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    target = provider.ConsumeIntInRange(0, 3)
    if target == 0:
        http_head(provider.ConsumeBytes(provider.remaining_bytes()))
    elif target == 1:
        websocket_session(provider)
    elif target == 2:
        DeclaredSizeGuard(limit=4096).feed(provider.ConsumeBytes(provider.remaining_bytes()))
    else:
        try:
            decode(provider.ConsumeBytes(provider.remaining_bytes()))
        except InvalidMessage:
            pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
