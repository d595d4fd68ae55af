"""Model saves and deletes as channel messages (the recipe of docs/model-events.rst).

``send_model_events(Model, groups=...)`` sends, once each transaction commits,
``{"type": "<app>.<model>.created" | ".updated" | ".deleted", "model", "pk", "data"}`` to
the groups ``groups(instance)`` names. A class consumer gets it as a method call
(``{"type": "shop.price.updated"}`` calls ``shop_price_updated``)::

    send_model_events(Price, groups=lambda price: [f"shop-{price.shop_id}"], fields=["name", "value"])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core import serializers
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

from .channel import Group

__all__ = ["model_event", "send_model_events"]

logger = logging.getLogger(__name__)

GroupsOf = Callable[[Any], Iterable[str]]


def model_event(instance: models.Model, action: str, fields: list[str] | None = None) -> dict[str, Any]:
    """The message for ``action`` (``created``, ``updated``, ``deleted``) on ``instance``."""
    label = instance._meta.label_lower
    (serialized,) = serializers.serialize("python", [instance], fields=fields)
    return {"type": f"{label}.{action}", "model": label, "pk": instance.pk, "data": dict(serialized["fields"])}


def send_model_events(model: type[models.Model], *, groups: GroupsOf, fields: list[str] | None = None) -> None:
    """Send ``model``'s saves and deletes to ``groups(instance)`` after each commit (a rolled
    back change sends nothing). ``fields``: the fields in ``data`` (default: all)."""
    uid = f"realtime.model_events.{model._meta.label_lower}"

    def send(instance: models.Model, action: str) -> None:
        message = model_event(instance, action, fields)
        names = list(groups(instance))

        def on_commit() -> None:
            for name in names:
                try:
                    Group(name).send(message)
                except Exception:  # committed already; a lost notice must not fail the save
                    logger.exception("could not send %s to %s", message["type"], name)

        transaction.on_commit(on_commit)

    def saved(sender: type, instance: models.Model, created: bool, raw: bool = False, **kwargs: Any) -> None:
        if not raw:
            send(instance, "created" if created else "updated")

    def deleted(sender: type, instance: models.Model, **kwargs: Any) -> None:
        send(instance, "deleted")

    post_save.connect(saved, sender=model, weak=False, dispatch_uid=uid + ".saved")
    post_delete.connect(deleted, sender=model, weak=False, dispatch_uid=uid + ".deleted")
