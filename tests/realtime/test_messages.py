"""Message validation and the wire envelope (pure)."""

import math

import msgpack
import pytest

from realtime.exceptions import InvalidMessage, MessageTooLarge
from realtime.messages import MAX_NESTING, Envelope, Kind, decode, encode, validate_content


def test_envelope_round_trip() -> None:
    envelope = Envelope(Kind.MESSAGE, "chat", None, 123.5, {"text": "hi", "bytes": b"\x01", "nested": [{"a": None}]})
    assert decode(encode(envelope, 1024)) == envelope


def test_membership_envelope_has_no_content() -> None:
    envelope = Envelope(Kind.GROUP_ADD, "x!o.c", "room", 1.0)
    assert decode(encode(envelope, 1024)) == envelope


def test_nan_and_infinity_survive() -> None:
    content = decode(encode(Envelope(Kind.MESSAGE, "c", None, 1.0, {"n": math.nan, "i": math.inf}), 1024)).content
    assert content is not None and math.isnan(content["n"]) and content["i"] == math.inf


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ([1], "must be a dict, not list"),
        ({"s": {1}}, r"message\['s'\] is a set"),
        ({"deep": {"er": [object()]}}, r"message\['deep'\]\['er'\]\[0\] is a object"),
        ({1: "x"}, "key of type int"),
    ],
)
def test_invalid_content_names_the_offending_path(content: object, says: str) -> None:
    with pytest.raises(InvalidMessage, match=says):
        validate_content(content)


def test_too_deep_nesting_is_rejected() -> None:
    content: dict = {}
    node = content
    for _ in range(MAX_NESTING + 1):
        node["n"] = {}
        node = node["n"]
    with pytest.raises(InvalidMessage, match="nested more than"):
        validate_content(content)


def test_integer_beyond_64_bits_is_rejected() -> None:
    with pytest.raises(InvalidMessage, match="cannot be encoded"):
        encode(Envelope(Kind.MESSAGE, "c", None, 1.0, {"big": 2**70}), 1024)


def test_size_limit_applies_to_the_encoded_envelope() -> None:
    with pytest.raises(MessageTooLarge, match="limit is 100"):
        encode(Envelope(Kind.MESSAGE, "c", None, 1.0, {"b": b"x" * 100}), 100)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        msgpack.packb([0, "c", None, 1.0]),
        msgpack.packb([9, "c", None, 1.0, {}]),
        msgpack.packb([0, "c", None, "soon", {}]),
        msgpack.packb([0, 5, None, 1.0, {}]),
        msgpack.packb([0, "c", None, 1.0, [1]]),
        msgpack.packb({"not": "a list"}),
        msgpack.packb([0, "c", None, 1.0, {1: 2}]),
    ],
)
def test_corrupt_envelopes_raise_invalid_message(data: bytes) -> None:
    with pytest.raises(InvalidMessage, match="corrupt envelope"):
        decode(data)
