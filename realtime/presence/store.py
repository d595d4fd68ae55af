"""Presence in the Django database: member rows and owner heartbeats.

Times that decide liveness come from the database's clock (``Now()``), so gateways on
hosts whose clocks disagree still agree on who is alive.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Now

from ..models import PresenceMember, PresenceOwner
from .events import Member

__all__ = [
    "add",
    "beat",
    "claim",
    "expired",
    "forget_owner",
    "joined_since",
    "live",
    "live_count",
    "lost",
    "of_channel",
    "of_owner",
    "one",
]


def _member(row: PresenceMember) -> Member:
    return Member(row.group, row.channel, row.user, row.meta, row.joined_at)


def _keyed(rows: QuerySet[PresenceMember]) -> list[tuple[int, Member]]:
    """Rows as ``(key, member)``: the key is what :func:`claim` deletes."""
    return [(row.pk, _member(row)) for row in rows]


def _live_owners(timeout: float) -> QuerySet[PresenceOwner, str]:
    return PresenceOwner.objects.filter(last_seen__gte=Now() - timedelta(seconds=timeout)).values_list(
        "owner", flat=True
    )


def add(
    namespace: str, group: str, channel: str, owner: str, user: str | None, meta: dict[str, Any] | None, expiry: float
) -> Member | None:
    """Record ``channel`` in ``group``; the new member, or ``None`` if it was one already
    (its expiry is renewed, and its meta replaced if ``meta`` is given)."""
    expires_at = Now() + timedelta(seconds=expiry)
    try:
        with transaction.atomic():
            row = PresenceMember.objects.create(
                namespace=namespace, group=group, channel=channel, owner=owner, user=user, meta=meta or {},
                joined_at=Now(), expires_at=expires_at,
            )  # fmt: skip
            # In the transaction: a sweep may delete the row as soon as it is committed.
            row.refresh_from_db(fields=["joined_at"])
    except IntegrityError:
        renewal: dict[str, Any] = (
            {"expires_at": expires_at} if meta is None else {"expires_at": expires_at, "meta": meta}
        )
        PresenceMember.objects.filter(namespace=namespace, group=group, channel=channel).update(**renewal)
        return None
    return _member(row)


def _live(namespace: str, group: str, owner_timeout: float) -> QuerySet[PresenceMember]:
    return PresenceMember.objects.filter(namespace=namespace, group=group, expires_at__gt=Now()).filter(
        Q(owner="") | Q(owner__in=_live_owners(owner_timeout))
    )


def live(namespace: str, group: str, owner_timeout: float) -> list[Member]:
    """The members of ``group`` that have not expired and whose owner is alive, oldest first."""
    return [_member(row) for row in _live(namespace, group, owner_timeout).order_by("joined_at", "pk")]


def live_count(namespace: str, group: str, owner_timeout: float) -> int:
    """How many members :func:`live` would list."""
    return _live(namespace, group, owner_timeout).count()


def one(namespace: str, group: str, channel: str) -> list[tuple[int, Member]]:
    """The row of ``channel`` in ``group``, if any, as ``(key, member)``."""
    return _keyed(PresenceMember.objects.filter(namespace=namespace, group=group, channel=channel))


def of_channel(namespace: str, channels: list[str]) -> list[tuple[int, Member]]:
    """Every row of ``channels``."""
    return _keyed(PresenceMember.objects.filter(namespace=namespace, channel__in=channels))


def joined_since(namespace: str, owner: str, seconds: float) -> list[tuple[int, Member]]:
    """Rows of ``owner``'s channels added in the last ``seconds``."""
    return _keyed(
        PresenceMember.objects.filter(
            namespace=namespace, owner=owner, joined_at__gte=Now() - timedelta(seconds=seconds)
        )
    )


def of_owner(namespace: str, owner: str) -> list[tuple[int, Member]]:
    """Every row of ``owner``'s channels."""
    return _keyed(PresenceMember.objects.filter(namespace=namespace, owner=owner))


def lost(namespace: str, owner_timeout: float, limit: int) -> list[tuple[int, Member]]:
    """Up to ``limit`` rows whose owner stopped beating (or never did)."""
    rows = (
        PresenceMember.objects.filter(namespace=namespace)
        .exclude(owner="")
        .exclude(owner__in=_live_owners(owner_timeout))
    )
    return _keyed(rows[:limit])


def expired(namespace: str, limit: int) -> list[tuple[int, Member]]:
    """Up to ``limit`` rows whose membership expired."""
    rows = PresenceMember.objects.filter(namespace=namespace, expires_at__lte=Now())
    return _keyed(rows[:limit])


def claim(key: int) -> bool:
    """Delete one row; True for the one caller whose delete removed it (it announces the leave)."""
    deleted, _ = PresenceMember.objects.filter(pk=key).delete()
    return deleted > 0


def beat(owner: str, owner_timeout: float) -> bool:
    """Record that ``owner`` is alive now; False if it had been silent for longer than
    ``owner_timeout`` (others may have announced its members as gone)."""
    on_time = PresenceOwner.objects.filter(owner=owner, last_seen__gte=Now() - timedelta(seconds=owner_timeout)).update(
        last_seen=Now()
    )
    if not on_time:
        PresenceOwner.objects.update_or_create(owner=owner, defaults={"last_seen": Now()})
    return bool(on_time)


def forget_owner(owner: str, owner_timeout: float) -> None:
    """Delete ``owner``'s heartbeat, and those of owners dead for ten timeouts (their rows are
    gone by then: lost members are claimed every beat)."""
    cutoff = Now() - timedelta(seconds=10 * owner_timeout)
    PresenceOwner.objects.filter(Q(owner=owner) | Q(last_seen__lt=cutoff)).delete()
