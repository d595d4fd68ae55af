"""The database tables of presence (see :mod:`realtime.presence`)."""

from __future__ import annotations

from django.db import models

from .names import MAX_CHANNEL_NAME_LENGTH, MAX_GROUP_NAME_LENGTH


class PresenceOwner(models.Model):
    """A process that owns reply channels (a gateway); alive while it keeps beating."""

    owner = models.CharField(max_length=32, primary_key=True)
    last_seen = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["last_seen"])]


class PresenceMember(models.Model):
    """One channel in one tracked group, on the layer whose prefix is ``namespace``."""

    namespace = models.CharField(max_length=100)
    group = models.CharField(max_length=MAX_GROUP_NAME_LENGTH)
    channel = models.CharField(max_length=MAX_CHANNEL_NAME_LENGTH)
    #: The owning process of a reply channel; "" for a normal channel (which has no owner to die).
    owner = models.CharField(max_length=32, blank=True)
    #: The primary key (as text) of the user whose message added the channel, if signed in.
    user = models.CharField(max_length=64, null=True)
    meta = models.JSONField(default=dict)
    joined_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "group", "channel"], name="realtime_presence_unique_member")
        ]
        indexes = [models.Index(fields=["owner", "joined_at"]), models.Index(fields=["namespace", "expires_at"])]
