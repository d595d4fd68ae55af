"""Keeps the presence tables in step with group memberships, and announces the changes.

Joins and discards are recorded by the process that makes them (a worker, usually). The
process that owns reply channels (a gateway) runs an agent thread that beats every third
of ``owner_timeout``, records its closed channels' leaves in batches, removes members
added after their channel had closed, and claims the members of owners that stopped
beating and of memberships that expired. Every leave is announced by the one process
whose delete removed the row.
"""

from __future__ import annotations

import fnmatch
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from ..exceptions import GroupNotTracked, InvalidGroupName, RealtimeError
from ..layers.config import LayerConfig
from ..names import is_reply_channel, owner_of
from . import store
from .events import EVENTS_PREFIX, Member, event_message, events_group

__all__ = ["PresenceTracker"]

logger = logging.getLogger(__name__)

GroupSend = Callable[[str, dict[str, Any]], None]

# Rows claimed per query by a sweep; the rest wait for the next beat.
_SWEEP_BATCH = 500


class PresenceTracker:
    """Presence of the groups matching ``config.presence_groups`` on one layer."""

    def __init__(self, config: LayerConfig, group_send: GroupSend) -> None:
        self._namespace = config.prefix
        self._group_expiry = config.group_expiry
        self._owner_timeout = config.owner_timeout
        self._pattern = re.compile("|".join(fnmatch.translate(glob) for glob in config.presence_groups))
        self._group_send = group_send
        self._released: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._agent: threading.Thread | None = None
        self._stopping = threading.Event()

    def tracks(self, group: str) -> bool:
        """True if ``group``'s members are tracked."""
        return not group.startswith(EVENTS_PREFIX) and self._pattern.match(group) is not None

    # -- membership changes (in the calling thread) --------------------------------------------

    def joined(self, group: str, channel: str, meta: dict[str, Any] | None) -> None:
        """``channel`` was added to ``group``: record it and announce it if it is new."""
        owner = owner_of(channel) if is_reply_channel(channel) else ""
        member = store.add(self._namespace, group, channel, owner, _user_of(channel), meta, self._group_expiry)
        if member is not None:
            self._announce("join", member, "join")

    def left(self, group: str, channel: str) -> None:
        """``channel`` was discarded from ``group``."""
        self._remove(store.one(self._namespace, group, channel), "discard")

    def released(self, channel: str) -> None:
        """This process closed ``channel``: its leaves are recorded by the agent (in batches)."""
        if self._agent is not None:
            self._released.put(channel)
        else:
            self._remove(store.of_channel(self._namespace, [channel]), "disconnect")

    # -- queries ---------------------------------------------------------------------------

    def members(self, group: str) -> list[Member]:
        """The members of ``group`` whose owner is alive, oldest first.

        Raises:
            GroupNotTracked: ``group`` matches none of the ``presence_groups`` patterns.
        """
        self._require(group)
        return store.live(self._namespace, group, self._owner_timeout)

    def count(self, group: str) -> int:
        """How many members :meth:`members` would list (one query)."""
        self._require(group)
        return store.live_count(self._namespace, group, self._owner_timeout)

    def events_group(self, group: str) -> str:
        """The group that receives tracked ``group``'s join and leave events.

        Raises:
            GroupNotTracked: as for :meth:`members`.
            InvalidGroupName: ``group`` is too long to have an events group.
        """
        self._require(group)
        return events_group(group)

    def _require(self, group: str) -> None:
        if not self.tracks(group):
            raise GroupNotTracked(
                f"presence is not tracked for group {group!r}: add a pattern that matches it to the "
                "layer's 'presence_groups' option (CHANNEL_LAYERS[...]['CONFIG'])"
            )

    # -- the owner's agent -------------------------------------------------------------------

    def start(self, owner: str, owns: Callable[[str], bool]) -> None:
        """Beat for ``owner`` now and then every third of ``owner_timeout``, in a thread.

        ``owns(channel)`` tells whether ``owner`` still has ``channel`` open.
        """
        try:
            store.beat(owner, self._owner_timeout)
        except DatabaseError:
            logger.exception("presence: the first heartbeat of %s failed (is `manage.py migrate` done?)", owner)
        self._stopping.clear()
        self._agent = threading.Thread(target=self._run, args=(owner, owns), name="realtime-presence", daemon=True)
        self._agent.start()

    def stop(self) -> None:
        """Stop the agent after it has recorded every leave of this owner and its last beat."""
        agent, self._agent = self._agent, None
        if agent is not None:
            self._stopping.set()
            self._released.put(None)
            agent.join(timeout=self._owner_timeout)

    def _run(self, owner: str, owns: Callable[[str], bool]) -> None:
        interval = self._owner_timeout / 3
        checked = time.monotonic()  # rows added before this were checked (none existed)
        try:
            while not self._stopping.is_set():
                try:
                    started = time.monotonic()
                    self._beat(owner, owns, since=started - checked + interval)
                    checked = started
                except (DatabaseError, RealtimeError):
                    logger.exception("presence: a heartbeat round of %s failed; retrying", owner)
                    close_old_connections()
                self._stopping.wait(interval)
            self._leave_everything(owner)
        finally:
            close_old_connections()

    def _beat(self, owner: str, owns: Callable[[str], bool], since: float) -> None:
        """One round: beat, record closed channels' leaves, remove members added after their
        channel closed (those added in the last ``since`` seconds), and sweep."""
        if not store.beat(owner, self._owner_timeout):
            logger.warning(
                "presence: %s missed its heartbeats for over %.0f s (a stalled process or database); "
                "other gateways may have announced its members as gone, until they are added again",
                owner, self._owner_timeout,
            )  # fmt: skip
        self._record_releases()
        # A worker may add a channel just after it closed: that row is removed here.
        recent = store.joined_since(self._namespace, owner, since)
        self._remove([(key, member) for key, member in recent if not owns(member.channel)], "disconnect")
        self._remove(store.lost(self._namespace, self._owner_timeout, _SWEEP_BATCH), "gateway_lost")
        self._remove(store.expired(self._namespace, _SWEEP_BATCH), "expired")

    def _record_releases(self) -> None:
        channels: list[str] = []
        while True:
            try:
                channel = self._released.get_nowait()
            except queue.Empty:
                break
            if channel is not None:
                channels.append(channel)
        for start in range(0, len(channels), _SWEEP_BATCH):
            self._remove(store.of_channel(self._namespace, channels[start : start + _SWEEP_BATCH]), "disconnect")

    def _leave_everything(self, owner: str) -> None:
        try:
            self._record_releases()
            self._remove(store.of_owner(self._namespace, owner), "disconnect")
            store.forget_owner(owner, self._owner_timeout)
        except (DatabaseError, RealtimeError):
            logger.exception("presence: could not record the leaves of %s; others will in %.0f s", owner,
                             self._owner_timeout)  # fmt: skip

    # -- announcing --------------------------------------------------------------------------

    def _remove(self, rows: list[tuple[int, Member]], reason: str) -> None:
        for key, member in rows:
            if store.claim(key):
                self._announce("leave", member, reason)

    def _announce(self, kind: str, member: Member, reason: str) -> None:
        try:
            group = events_group(member.group)
        except InvalidGroupName:
            return  # nobody can subscribe to this group's events
        try:
            self._group_send(group, event_message(kind, member, reason, settings.SECRET_KEY))
        except RealtimeError:
            logger.warning("presence: could not announce %s %s of %s", member.group, kind, reason, exc_info=True)


def _user_of(channel: str) -> str | None:
    """The signed-in user of the message being consumed, if ``channel`` is its reply channel."""
    from ..running import current_message

    message = current_message()
    if message is None or message.reply_channel is None or message.reply_channel.name != channel:
        return None
    user = message.user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)
