"""Invalid UTF-8 in text messages (RELIABILITY.md T3): whatever the bytes and however the
message is split into frames and reads, the session closes with 1007 and hands no message
on to be published."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.websocket import Closed, MessageReceived

from ..bridge.test_websocket import Peer


def masked_frame(opcode: int, payload: bytes, final: bool) -> bytes:
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([(0x80 if final else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    else:
        head += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def invalid_utf8() -> st.SearchStrategy[bytes]:
    """Valid text around one invalid sequence (a bad start byte, a truncated or overlong
    sequence, a surrogate, a code point past U+10FFFF)."""
    bad = st.sampled_from(
        [b"\xff", b"\xfe", b"\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3"]
    )
    text = st.text(max_size=200).map(lambda value: value.encode())
    return st.tuples(text, bad, text).map(lambda parts: b"".join(parts))


@settings(max_examples=300, deadline=None)
@given(payload=invalid_utf8(), fragments=st.integers(1, 5), read_size=st.integers(1, 64))
def test_invalid_utf8_closes_with_1007_and_publishes_nothing(payload: bytes, fragments: int, read_size: int) -> None:
    peer = Peer()
    peer.open()
    pieces = [payload[i * len(payload) // fragments : (i + 1) * len(payload) // fragments] for i in range(fragments)]
    wire = b"".join(
        masked_frame(0x1 if n == 0 else 0x0, piece, final=n == fragments - 1) for n, piece in enumerate(pieces)
    )
    events = []
    for start in range(0, len(wire), read_size):
        events += peer.session.receive_data(wire[start : start + read_size])
    assert not [event for event in events if isinstance(event, MessageReceived)]
    assert [event.code for event in events if isinstance(event, Closed)] == [1007]
