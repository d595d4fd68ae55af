"""Refuses a WebSocket message by its declared size, before its payload arrives (pure).

wsproto counts a message's bytes as they come, so a frame header that declares 2^63 bytes
and then sends nothing would hold the connection open until the idle timeout. The guard
reads only the frame headers in the client's byte stream (skipping payloads) and says as
soon as the data frames of one message declare more than the limit (RFC 6455, 5.2).
"""

from __future__ import annotations

__all__ = ["DeclaredSizeGuard"]

_CONTROL = 0x8  # opcodes 0x8-0xF are control frames: never part of a message


class DeclaredSizeGuard:
    """Tracks frame headers; :meth:`feed` is true once a message declares too many bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._header = bytearray()
        self._payload_left = 0
        self._message = 0  # bytes declared so far by the current message's frames

    def feed(self, data: bytes) -> bool:
        """Follow ``data`` (the next bytes from the client); true if a message is too big."""
        position, size = 0, len(data)
        while position < size:
            if self._payload_left:
                skipped = min(self._payload_left, size - position)
                self._payload_left -= skipped
                position += skipped
                continue
            self._header.append(data[position])
            position += 1
            if len(self._header) < 2 or len(self._header) < self._header_length():
                continue
            if self._frame_declared():
                return True
        return False

    def _header_length(self) -> int:
        length_code = self._header[1] & 0x7F
        extended = 2 if length_code == 126 else 8 if length_code == 127 else 0
        return 2 + extended + (4 if self._header[1] & 0x80 else 0)

    def _frame_declared(self) -> bool:
        """A whole header is in: account for its frame; true if the message is too big."""
        header, self._header = self._header, bytearray()
        length = header[1] & 0x7F
        if length == 126:
            length = int.from_bytes(header[2:4], "big")
        elif length == 127:
            length = int.from_bytes(header[2:10], "big")
        opcode, final = header[0] & 0x0F, bool(header[0] & 0x80)
        self._payload_left = length
        if opcode >= _CONTROL:
            return False
        if opcode != 0:  # a text or binary frame starts a message
            self._message = 0
        self._message += length
        if self._message > self.limit:
            return True
        if final:
            self._message = 0
        return False
