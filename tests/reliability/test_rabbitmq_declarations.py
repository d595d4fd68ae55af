"""RabbitMQ 4.x refuses transient non-exclusive queues (RELIABILITY.md, T19): every queue the
layer declares is durable, exclusive or a passive check. Checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import realtime.layers.transports.amqp as amqp_transport

from .conftest import Record


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def test_t19_every_queue_declaration_is_accepted_by_rabbitmq_4(record: Record) -> None:
    tree = ast.parse(Path(amqp_transport.__file__).read_text())
    declarations = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "queue_declare"
    ]
    assert len(declarations) >= 3
    for call in declarations:
        accepted = any(_keyword(call, flag) is True for flag in ("durable", "exclusive", "passive"))
        assert accepted, f"line {call.lineno}: a transient non-exclusive queue would be refused by RabbitMQ 4"
    record(queue_declarations=len(declarations), transient_non_exclusive=0)
