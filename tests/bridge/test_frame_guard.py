"""Refusing a message by its declared size, from frame headers alone."""

import os

import pytest

from bridge.frame_guard import DeclaredSizeGuard


def header(opcode: int, length: int, *, final: bool = True, masked: bool = True) -> bytes:
    first = (0x80 if final else 0) | opcode
    mask = 0x80 if masked else 0
    if length < 126:
        head = bytes([first, mask | length])
    elif length < 65536:
        head = bytes([first, mask | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([first, mask | 127]) + length.to_bytes(8, "big")
    return head + (os.urandom(4) if masked else b"")


def frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    return header(opcode, len(payload), final=final) + payload


def test_messages_within_the_limit_pass_in_any_chunking() -> None:
    stream = frame(1, b"a" * 100) + frame(2, b"b" * 60_000) + frame(9, b"ping") + frame(1, b"c" * 1000)
    for chunk in (1, 7, 4096, len(stream)):
        guard = DeclaredSizeGuard(limit=60_000)
        assert not any(guard.feed(stream[i : i + chunk]) for i in range(0, len(stream), chunk))


@pytest.mark.parametrize("declared", [1001, 70_000, 2**63 - 1])
def test_a_frame_declaring_more_than_the_limit_is_refused_before_its_payload(declared: int) -> None:
    guard = DeclaredSizeGuard(limit=1000)
    assert guard.feed(header(1, declared))


def test_fragments_count_together_and_control_frames_do_not() -> None:
    guard = DeclaredSizeGuard(limit=1000)
    assert not guard.feed(frame(1, b"a" * 600, final=False))
    assert not guard.feed(frame(9, b"x" * 125))  # a ping between fragments
    assert guard.feed(header(0, 401))  # the continuation makes 1001


def test_a_new_message_starts_counting_again() -> None:
    guard = DeclaredSizeGuard(limit=1000)
    assert not guard.feed(frame(1, b"a" * 1000) + frame(2, b"b" * 1000))
