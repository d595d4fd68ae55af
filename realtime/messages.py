"""Message validation and the wire envelope (pure, no I/O).

Every message travels inside an :class:`Envelope` encoded with msgpack: msgpack
carries ``bytes`` natively (WebSocket binary frames) and is what the Channels Redis
layer uses. The envelope holds the addressee, the absolute expiry time and the
content, so expiry is enforced by the receiver on every transport, also on those
without a native per-message TTL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import msgpack

from .exceptions import InvalidMessage, MessageTooLarge

__all__ = [
    "MAX_NESTING",
    "Envelope",
    "Kind",
    "decode",
    "encode",
    "validate_content",
]

# Deeper structures are rejected before msgpack's own (larger) recursion limit is hit;
# no realtime message legitimately nests this deep (RELIABILITY.md, T4).
MAX_NESTING = 64

_SCALARS = (str, bytes, int, float, bool, type(None))


class Kind(enum.IntEnum):
    """What an envelope asks its receiver to do."""

    MESSAGE = 0  # deliver ``content`` on ``channel`` (or to the local members of ``group``)
    GROUP_ADD = 1  # the owner of ``channel`` records it as a member of ``group``
    GROUP_DISCARD = 2  # the owner of ``channel`` forgets it as a member of ``group``
    PROCESSED = 3  # a worker finished the message ``content["order"]`` of reply channel ``channel``


@dataclass(frozen=True, slots=True)
class Envelope:
    """One unit on the wire: a message for a channel or group, or a membership change."""

    kind: Kind
    channel: str | None
    group: str | None
    expires_at: float
    content: dict[str, Any] | None = None


def validate_content(content: object) -> dict[str, Any]:
    """Return ``content`` if it is a dict of serialisable values.

    Raises:
        InvalidMessage: naming the first offending key path and its type.
    """
    if not isinstance(content, dict):
        raise InvalidMessage(f"a message must be a dict, not {type(content).__name__}")
    _check_value(content, "message", 0)
    return content


def _check_value(value: object, path: str, depth: int) -> None:
    if isinstance(value, _SCALARS):
        return
    if depth >= MAX_NESTING:
        raise InvalidMessage(f"{path} is nested more than {MAX_NESTING} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidMessage(f"{path} has a key of type {type(key).__name__} ({key!r}); keys must be str")
            _check_value(item, f"{path}[{key!r}]", depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
    else:
        raise InvalidMessage(
            f"{path} is a {type(value).__name__}; message values must be dict, list, str, bytes, "
            "int, float, bool or None"
        )


def encode(envelope: Envelope, max_size: int) -> bytes:
    """Encode an envelope for the wire.

    Raises:
        MessageTooLarge: if the encoded envelope is longer than ``max_size`` bytes.
    """
    try:
        data = msgpack.packb(
            [int(envelope.kind), envelope.channel, envelope.group, envelope.expires_at, envelope.content],
            use_bin_type=True,
        )
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. an int beyond 64 bits
        raise InvalidMessage(f"message cannot be encoded: {exc}") from exc
    if len(data) > max_size:
        target = envelope.channel or envelope.group
        raise MessageTooLarge(f"message to {target!r} is {len(data)} bytes encoded; the limit is {max_size}")
    return data


def decode(data: bytes) -> Envelope:
    """Decode bytes produced by :func:`encode`.

    Raises:
        InvalidMessage: if ``data`` is not a well-formed envelope.
    """
    try:
        fields = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises several unrelated types for corrupt input
        raise InvalidMessage(f"corrupt envelope: {exc.__class__.__name__}: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 5:
        raise InvalidMessage("corrupt envelope: expected a 5-item array")
    kind, channel, group, expires_at, content = fields
    try:
        kind = Kind(kind)
    except ValueError as exc:
        raise InvalidMessage(f"corrupt envelope: unknown kind {kind!r}") from exc
    if not isinstance(expires_at, (int, float)) or isinstance(expires_at, bool):
        raise InvalidMessage("corrupt envelope: expiry is not a number")
    if not (channel is None or isinstance(channel, str)) or not (group is None or isinstance(group, str)):
        raise InvalidMessage("corrupt envelope: addressee is not a string")
    if not (content is None or isinstance(content, dict)):
        raise InvalidMessage("corrupt envelope: content is not a map")
    return Envelope(kind, channel, group, float(expires_at), content)
