"""Data binding (Channels 1.x ``channels.binding``), independent of the wire format.

Outbound: a subclass with a ``model`` hears that model's saves and deletes and, once the
transaction commits, sends ``create`` / ``update`` / ``delete`` to the groups
``group_names(instance)`` names. An update also tells a group the instance left
(``delete``) or joined (``create``). Inbound: a client's ``create`` / ``update`` /
``delete`` is applied if ``has_permission(user, action, pk)`` allows it (it refuses by
default), to the ``fields`` listed only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, ClassVar

from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from ..channel import Group

__all__ = ["CREATE", "DELETE", "UPDATE", "Binding", "BindingError"]

logger = logging.getLogger(__name__)

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTIONS = (CREATE, UPDATE, DELETE)
# Where an instance keeps its groups from before a save or delete, per binding.
_GROUPS_BEFORE = "_realtime_binding_groups"


class BindingError(ValueError):
    """A client's change cannot be applied; the message says why (sent back to it)."""


class Binding:
    """Binds a model to groups. Subclass it with ``model`` and ``fields`` set."""

    model: ClassVar[type[models.Model] | None] = None
    #: Fields sent to clients and accepted from them (``["__all__"]``: every concrete field).
    fields: ClassVar[list[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.model is None:
            return
        if not cls.fields:
            raise TypeError(f"{cls.__name__} binds {cls.model.__name__} but lists no fields")
        uid = f"realtime.binding.{cls.__module__}.{cls.__qualname__}"
        pre_save.connect(cls._remember_groups, sender=cls.model, weak=False, dispatch_uid=uid + ".pre_save")
        pre_delete.connect(cls._remember_groups, sender=cls.model, weak=False, dispatch_uid=uid + ".pre_delete")
        post_save.connect(cls._saved, sender=cls.model, weak=False, dispatch_uid=uid + ".post_save")
        post_delete.connect(cls._deleted, sender=cls.model, weak=False, dispatch_uid=uid + ".post_delete")

    # -- outbound ------------------------------------------------------------------------

    @classmethod
    def group_names(cls, instance: models.Model) -> Iterable[str]:
        """The groups that hear about ``instance`` (override)."""
        return ()

    @classmethod
    def field_names(cls) -> list[str]:
        assert cls.model is not None
        if cls.fields == ["__all__"]:
            return [field.name for field in cls.model._meta.concrete_fields if not field.primary_key]
        return list(cls.fields or ())

    @classmethod
    def serialize_data(cls, instance: models.Model) -> dict[str, Any]:
        """The bound fields of ``instance``, JSON-ready."""
        (serialized,) = serializers.serialize("python", [instance], fields=cls.field_names())
        return dict(serialized["fields"])

    @classmethod
    def payload(cls, instance: models.Model, action: str) -> dict[str, Any]:
        assert cls.model is not None
        return {
            "action": action,
            "pk": instance.pk,
            "data": cls.serialize_data(instance),
            "model": cls.model._meta.label_lower,
        }

    @classmethod
    def encode(cls, payload: dict[str, Any]) -> dict[str, Any]:
        """The group message that carries ``payload`` (the wire format; see subclasses)."""
        raise NotImplementedError

    @classmethod
    def _remember_groups(cls, sender: type, instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
        if raw:
            return
        before: set[str] = set()
        if instance.pk is not None:
            try:
                stored = type(instance)._default_manager.get(pk=instance.pk)
            except ObjectDoesNotExist:
                pass
            else:
                before = set(cls.group_names(stored))
        instance.__dict__.setdefault(_GROUPS_BEFORE, {})[cls] = before

    @classmethod
    def _saved(cls, sender: type, instance: models.Model, created: bool, raw: bool = False, **kwargs: Any) -> None:
        if raw:
            return
        before = set() if created else instance.__dict__.get(_GROUPS_BEFORE, {}).pop(cls, set())
        after = set(cls.group_names(instance))
        sends = [(group, CREATE) for group in after - before]
        sends += [(group, UPDATE) for group in after & before]
        sends += [(group, DELETE) for group in before - after]
        cls._send_on_commit(instance, sends)

    @classmethod
    def _deleted(cls, sender: type, instance: models.Model, **kwargs: Any) -> None:
        before = instance.__dict__.get(_GROUPS_BEFORE, {}).pop(cls, set())
        cls._send_on_commit(instance, [(group, DELETE) for group in before])

    @classmethod
    def _send_on_commit(cls, instance: models.Model, sends: list[tuple[str, str]]) -> None:
        if not sends:
            return
        messages = {action: cls.encode(cls.payload(instance, action)) for action in {action for _, action in sends}}

        def send() -> None:
            for group, action in sends:
                try:
                    Group(group).send(messages[action])
                except Exception:  # the change is committed; a failed notice must not undo it
                    logger.exception("%s: could not send %s of %r to %s", cls.__name__, action, instance, group)

        transaction.on_commit(send)

    # -- inbound -------------------------------------------------------------------------

    def __init__(self, user: Any) -> None:
        self.user = user

    def has_permission(self, user: Any, action: str, pk: Any) -> bool:
        """May ``user`` do ``action`` (``create``, ``update``, ``delete``) on ``pk``? Refuses
        unless overridden."""
        return False

    def apply(self, action: object, pk: object, data: object) -> models.Model | None:
        """Apply a client's change; the instance created or updated.

        Raises:
            BindingError: unknown action, refused by ``has_permission``, no such object,
                or invalid data (a ``ValidationError``'s messages).
        """
        assert self.model is not None
        if action not in ACTIONS:
            raise BindingError(f"action must be one of {list(ACTIONS)}, not {action!r}")
        if not self.has_permission(self.user, str(action), pk):
            raise BindingError(f"permission denied: {action} on {self.model._meta.label_lower} {pk!r}")
        if action != CREATE:
            try:
                instance = self.model._default_manager.get(pk=pk)
            except (ObjectDoesNotExist, ValueError, ValidationError):
                raise BindingError(f"no {self.model._meta.label_lower} with pk {pk!r}") from None
            if action == DELETE:
                instance.delete()
                return None
        else:
            instance = self.model()
        if not isinstance(data, dict):
            raise BindingError("data must be an object of field values")
        self._assign(instance, data)
        try:
            instance.full_clean()
        except ValidationError as error:
            raise BindingError(f"invalid data: {error.message_dict}") from None
        instance.save()
        return instance

    def _assign(self, instance: models.Model, data: dict[str, Any]) -> None:
        allowed = set(self.field_names())
        unknown = set(data) - allowed
        if unknown:
            raise BindingError(f"fields {sorted(unknown)} cannot be set; bound fields: {sorted(allowed)}")
        for name, value in data.items():
            setattr(instance, instance._meta.get_field(name).attname, value)
