"""``manage.py checklayer``: prove the configured channel layer works, end to end, and time it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime.exceptions import RealtimeError
from realtime.layers import get_channel_layer
from realtime.layers.core import SyncChannelLayer


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _time_round_trips(count: int, round_trip: Callable[[int], None]) -> dict[str, float]:
    samples = []
    for index in range(count):
        started = time.perf_counter()
        round_trip(index)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
    }


class Command(BaseCommand):
    help = "Send and receive through the configured channel layer (normal channel, reply channel, group) and time it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alias", default="default", help="the CHANNEL_LAYERS entry to check")
        parser.add_argument("--messages", type=int, default=200, help="round trips per check")
        parser.add_argument("--members", type=int, default=10, help="reply channels in the test group")

    def handle(self, *args: Any, **options: Any) -> None:
        layer = get_channel_layer(options["alias"]).sync
        self.stdout.write(f"channel layer {options['alias']!r} on {_safe_url(layer.config.url)}")
        try:
            self._check(layer, options["messages"], options["members"])
        except RealtimeError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            layer.close()
        self.stdout.write(self.style.SUCCESS("the channel layer works"))

    def _check(self, layer: SyncChannelLayer, count: int, members: int) -> None:
        channel = f"checklayer.{layer.owner}"
        reply = layer.new_channel("checklayer")
        channels = [layer.new_channel("checklayer") for _ in range(members)]
        group = f"checklayer-{layer.owner}"
        for member in channels:
            layer.group_add(group, member)

        def normal(index: int) -> None:
            layer.send(channel, {"i": index})
            self._expect(layer.receive(channel, timeout=5), index, channel)

        def to_reply(index: int) -> None:
            layer.send(reply, {"i": index})
            self._expect(layer.receive(reply, timeout=5), index, reply)

        def to_group(index: int) -> None:
            layer.group_send(group, {"i": index})
            for member in channels:
                self._expect(layer.receive(member, timeout=5), index, member)

        checks = [
            ("normal channel send -> receive", normal),
            ("reply channel send -> receive", to_reply),
            (f"group send -> all {members} members", to_group),
        ]
        for title, round_trip in checks:
            figures = _time_round_trips(count, round_trip)
            self.stdout.write(f"  {title:<36} p50 {figures['p50']:7.3f} ms   p99 {figures['p99']:7.3f} ms")
        for member in channels:
            layer.group_discard(group, member)

    @staticmethod
    def _expect(message: dict[str, Any] | None, index: int, channel: str) -> None:
        if message != {"i": index}:
            raise CommandError(f"expected message {index} on {channel!r}, got {message!r}")
