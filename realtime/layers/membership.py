"""Which of an owner's channels belong to which groups (pure, no I/O).

The broker delivers one copy of a group message to each owner with members; the owner
looks up its local members here and fans the message out itself. Memberships expire
after ``group_expiry`` unless renewed by another ``group_add`` (Channels' group expiry).
"""

from __future__ import annotations

__all__ = ["Memberships"]


class Memberships:
    """A two-way index of group memberships with a deadline each."""

    def __init__(self) -> None:
        self._by_group: dict[str, dict[str, float]] = {}
        self._by_channel: dict[str, set[str]] = {}

    def add(self, group: str, channel: str, deadline: float) -> None:
        """Record ``channel`` in ``group`` until ``deadline`` (renewing an existing membership)."""
        self._by_group.setdefault(group, {})[channel] = deadline
        self._by_channel.setdefault(channel, set()).add(group)

    def discard(self, group: str, channel: str) -> bool:
        """Forget one membership; True if it existed."""
        members = self._by_group.get(group)
        if members is None or members.pop(channel, None) is None:
            return False
        if not members:
            del self._by_group[group]
        groups = self._by_channel[channel]
        groups.discard(group)
        if not groups:
            del self._by_channel[channel]
        return True

    def members(self, group: str, now: float) -> list[str]:
        """The channels in ``group`` whose membership has not expired."""
        return [channel for channel, deadline in self._by_group.get(group, {}).items() if deadline > now]

    def groups_of(self, channel: str) -> set[str]:
        """The groups ``channel`` belongs to."""
        return set(self._by_channel.get(channel, ()))

    def remove_channel(self, channel: str) -> list[str]:
        """Forget every membership of ``channel``; returns the groups it was in."""
        groups = sorted(self._by_channel.get(channel, ()))
        for group in groups:
            self.discard(group, channel)
        return groups

    def items(self) -> list[tuple[str, str]]:
        """Every (group, channel) membership."""
        return [(group, channel) for group, members in self._by_group.items() for channel in members]

    def pop_expired(self, now: float) -> list[tuple[str, str]]:
        """Remove and return the (group, channel) memberships whose deadline has passed."""
        expired = [
            (group, channel)
            for group, members in self._by_group.items()
            for channel, deadline in members.items()
            if deadline <= now
        ]
        for group, channel in expired:
            self.discard(group, channel)
        return expired

    def __len__(self) -> int:
        return sum(len(members) for members in self._by_group.values())
