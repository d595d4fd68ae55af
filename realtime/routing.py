"""Routing: which consumer handles a message, from its channel and its content (pure).

The Channels 1.x routing API ("Getting Started", section Routing): ``route`` maps a
channel, plus optional regex filters on string keys of the message content, to a
consumer; ``include`` nests a routing list, prefixing its filters; ``route_class`` takes
the channels from a class's ``channel_names()``; ``@consumer`` registers a route from the
consumer's own module. A :class:`Router` flattens all of it once, then answers "which
consumer, with which keyword arguments?" for each message.

Everything is checked when it is declared or, for dotted paths, when the Router is
built, and every problem raises :class:`~realtime.exceptions.RoutingError`: a bad
routing table fails at start-up, not on the first message that happens to hit it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .exceptions import InvalidChannelName, RoutingError
from .names import is_reply_channel, validate_channel_name

__all__ = ["Match", "Router", "consumer", "decorated_routes", "include", "route", "route_class"]

ConsumerLike = Callable[..., Any] | str
RoutingLike = Sequence["Route | Include"] | str

_C = TypeVar("_C", bound=Callable[..., Any])

# The layer alias Router.from_settings reads by default. Not imported from
# realtime.layers: that would pull the transports into this pure module.
_DEFAULT_ALIAS = "default"


class Route:
    """A consumer for one or more channels, with optional regex filters on the content.

    Made by :func:`route`, :func:`route_class` and :func:`consumer`; a dotted-path
    consumer stays a string until a :class:`Router` is built.
    """

    __slots__ = ("_patterns", "channels", "consumer", "filters", "from_class")

    def __init__(
        self, channels: tuple[str, ...], consumer: ConsumerLike, filters: Mapping[str, str], *, from_class: bool
    ) -> None:
        self.channels = channels  # empty only for route_class("dotted.path"), until imported
        self.consumer = consumer
        self.filters = dict(filters)
        self.from_class = from_class
        self._patterns = _compile_filters(self.filters)

    @property
    def name(self) -> str:
        """The consumer's readable name: its dotted path or ``module.qualname``."""
        return _name_of(self.consumer)

    def match(self, content: Mapping[str, Any]) -> dict[str, str] | None:
        """The keyword arguments for the consumer if every filter matches ``content``, else None.

        A filter matches only a str value (bytes are decoded as UTF-8); a missing key or
        any other type is no match. Named groups that did not take part in the match are
        left out, so the consumer's defaults apply (as Django does for URL patterns).
        """
        kwargs: dict[str, str] = {}
        for key, pattern in self._patterns:
            value = content.get(key)
            if isinstance(value, bytes):
                try:
                    value = value.decode()
                except UnicodeDecodeError:
                    return None
            if not isinstance(value, str):
                return None
            found = pattern.match(value)
            if found is None:
                return None
            kwargs.update((group, text) for group, text in found.groupdict().items() if text is not None)
        return kwargs

    def __repr__(self) -> str:
        target = repr(self.consumer) if isinstance(self.consumer, str) else self.name
        if self.from_class:
            return f"route_class({target}{_filters_repr(self.filters)})"
        channels = repr(self.channels[0]) if len(self.channels) == 1 else repr(list(self.channels))
        return f"route({channels}, {target}{_filters_repr(self.filters)})"


class Include:
    """A nested routing list whose routes all get this include's filters (see :func:`include`)."""

    __slots__ = ("filters", "routing")

    def __init__(self, routing: RoutingLike, filters: Mapping[str, str]) -> None:
        self.routing = routing
        self.filters = dict(filters)
        _compile_filters(self.filters)

    def __repr__(self) -> str:
        target = (
            repr(self.routing)
            if isinstance(self.routing, str)
            else f"<{type(self.routing).__name__} of {len(self.routing)}>"
        )
        return f"include({target}{_filters_repr(self.filters)})"


@dataclass(frozen=True, slots=True)
class Match:
    """The route chosen for a message: call ``consumer(message, **kwargs)``."""

    consumer: Callable[..., Any]
    kwargs: dict[str, str]
    name: str


# Routes registered by @consumer, in registration order; Router appends them after
# its explicit routing list.
decorated_routes: list[Route] = []


def route(channel: str | Sequence[str], consumer: ConsumerLike, **filters: str) -> Route:
    """Route messages on ``channel`` (one name or several) whose content matches ``filters``.

    Each filter is ``key=regex``, tried with ``re.match`` on ``content[key]``; its named
    groups become keyword arguments of ``consumer``, a callable or a dotted path.

    Raises:
        RoutingError: for a bad or reply channel name, a bad regex, an unnamed group or
            a consumer that is neither callable nor a str.
    """
    if not callable(consumer) and not isinstance(consumer, str):
        raise RoutingError(f"a consumer must be a callable or a dotted path, not {type(consumer).__name__}")
    names = (channel,) if isinstance(channel, str) else channel
    return Route(_check_channels(names, f"route to {_name_of(consumer)}"), consumer, filters, from_class=False)


def route_class(consumer_class: type | str, **filters: str) -> Route:
    """Route the channels named by ``consumer_class.channel_names()`` to that class.

    Raises:
        RoutingError: as :func:`route`, or if the class has no ``channel_names()``.
    """
    if isinstance(consumer_class, str):
        return Route((), consumer_class, filters, from_class=True)
    return Route(_class_channels(consumer_class), consumer_class, filters, from_class=True)


def include(routing: RoutingLike, **filters: str) -> Include:
    """Nest ``routing`` (a list or its dotted path), adding ``filters`` to each of its routes.

    Where a route filters the same key, the patterns are joined: ``path=r"^/chat"`` and
    ``path=r"^/(?P<room>\\w+)/$"`` become ``^/chat/(?P<room>\\w+)/$``.
    """
    if not isinstance(routing, str | Sequence):
        raise RoutingError(f"include() needs a routing list or its dotted path, not {type(routing).__name__}")
    return Include(routing, filters)


def consumer(*channels: str, **filters: str) -> Callable[[_C], _C]:
    """Decorator: register the decorated consumer in :data:`decorated_routes`, unchanged.

    A class decorated without channels consumes its ``channel_names()``.

    Raises:
        RoutingError: for a function without channels, or as :func:`route`.
    """

    def register(target: _C) -> _C:
        if channels:
            entry = route(channels, target, **filters)
        elif isinstance(target, type):
            entry = route_class(target, **filters)
        else:
            raise RoutingError(
                f"@consumer() on {_name_of(target)} names no channel: use e.g. @consumer('websocket.connect'); "
                "only a class with channel_names() may leave them out"
            )
        decorated_routes.append(entry)
        return target

    return register


class Router:
    """A flattened routing table, indexed by channel name.

    ``routing`` (a list or its dotted path) comes first, then, with ``include_decorated``,
    the :data:`decorated_routes` registered so far. Includes are flattened and dotted
    paths imported here, once.

    Raises:
        RoutingError: for an import that fails, an entry that is not a route, an include
            cycle, or patterns that cannot be joined.
    """

    def __init__(self, routing: RoutingLike | None = None, *, include_decorated: bool = True) -> None:
        resolved: list[tuple[Route, Callable[..., Any]]] = []
        if routing is not None:
            resolved.extend(_flatten(routing, {}, ()))
        if include_decorated:
            resolved.extend(_flatten(list(decorated_routes), {}, ()))
        self.routes: tuple[Route, ...] = tuple(entry for entry, _ in resolved)
        index: dict[str, list[tuple[Route, Callable[..., Any]]]] = {}
        for entry, target in resolved:
            for channel in entry.channels:
                index.setdefault(channel, []).append((entry, target))
        # Each channel's routes keep their relative order, so first-match-wins holds
        # while a message only looks at the routes of its own channel.
        self._index = {channel: tuple(entries) for channel, entries in index.items()}

    @property
    def channels(self) -> frozenset[str]:
        """Every channel some route consumes."""
        return frozenset(self._index)

    def match(self, channel: str, content: Mapping[str, Any]) -> Match | None:
        """The first route for ``channel`` whose filters match ``content``, or None."""
        for entry, target in self._index.get(channel, ()):
            kwargs = entry.match(content)
            if kwargs is not None:
                return Match(target, kwargs, entry.name)
        return None

    @classmethod
    def from_settings(cls, alias: str = _DEFAULT_ALIAS) -> Router:
        """The router of ``settings.CHANNEL_LAYERS[alias]["ROUTING"]`` (a list or dotted path),
        followed by the ``@consumer`` routes of every installed app's ``consumers`` module
        (imported here, like Celery's task autodiscovery).

        Raises:
            RoutingError: for an unknown alias, or as :class:`Router`.
        """
        from django.conf import settings
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("consumers")

        layers: dict[str, Any] = getattr(settings, "CHANNEL_LAYERS", None) or {}
        # Same rule as the layer's own config: "default" may be left out, others may not.
        if alias not in layers and alias != _DEFAULT_ALIAS:
            raise RoutingError(f"no channel layer {alias!r} in CHANNEL_LAYERS (have: {sorted(layers)})")
        return cls(layers.get(alias, {}).get("ROUTING"))

    def __repr__(self) -> str:
        return f"<Router {len(self.routes)} routes on {len(self._index)} channels>"


def _flatten(
    routing: object, outer: Mapping[str, str], active: tuple[int, ...]
) -> Iterator[tuple[Route, Callable[..., Any]]]:
    """Resolve ``routing`` into plain routes with callable consumers, in order.

    ``outer`` holds the filters of the enclosing includes; ``active`` the ids of the
    lists being flattened, to refuse an include cycle instead of recursing forever.
    """
    if isinstance(routing, str):
        routing = _import(routing, "routing list")
    if isinstance(routing, str) or not isinstance(routing, Sequence):
        raise RoutingError(f"a routing list must be a list or tuple, not {type(routing).__name__}")
    if id(routing) in active:
        raise RoutingError(f"include cycle: a routing list includes itself ({len(routing)} entries)")
    for position, entry in enumerate(routing):
        if isinstance(entry, Include):
            yield from _flatten(entry.routing, _join_filters(outer, entry.filters), (*active, id(routing)))
        elif isinstance(entry, Route):
            yield _resolve(entry, outer)
        else:
            raise RoutingError(
                f"routing entry {position} is a {type(entry).__name__}, not a route(), route_class() or include()"
            )


def _resolve(entry: Route, outer: Mapping[str, str]) -> tuple[Route, Callable[..., Any]]:
    """A plain copy of ``entry`` with its consumer imported and ``outer`` joined in."""
    target: object = entry.consumer
    if isinstance(target, str):
        target = _import(target, "consumer")
    if not callable(target):
        raise RoutingError(f"consumer {entry.name} is a {type(target).__name__}, which cannot be called")
    channels = _class_channels(target) if entry.from_class and not entry.channels else entry.channels
    plain = Route(channels, target, _join_filters(outer, entry.filters), from_class=entry.from_class)
    return plain, target


def _join_filters(outer: Mapping[str, str], inner: Mapping[str, str]) -> dict[str, str]:
    joined = dict(outer)
    for key, pattern in inner.items():
        joined[key] = _join(key, outer[key], pattern) if key in outer else pattern
    return joined


def _join(key: str, outer: str, inner: str) -> str:
    """``outer`` followed by ``inner`` without its ``^`` (Channels 1.x include rule)."""
    where = f"cannot join include filter {key}={outer!r} with inner {key}={inner!r}"
    if not outer.startswith("^") or not inner.startswith("^"):
        raise RoutingError(f"{where}: both patterns must start with '^' to be joined")
    if _ends_anchored(outer):
        raise RoutingError(f"{where}: the include's pattern ends with '$', so nothing can follow it")
    repeated = sorted(re.compile(outer).groupindex.keys() & re.compile(inner).groupindex.keys())
    if repeated:
        raise RoutingError(f"{where}: both define the named group(s) {', '.join(repeated)}")
    # Plain concatenation would change what an alternation covers: "^/a|^/b" + "/x".
    if _has_top_level_alternation(outer) or _has_top_level_alternation(inner):
        raise RoutingError(f"{where}: a pattern has a top-level '|'; wrap the alternatives in (?:...)")
    return outer + inner[1:]


def _ends_anchored(pattern: str) -> bool:
    """True if ``pattern`` ends with an unescaped ``$`` or with ``\\Z``."""
    for anchor in ("$", "\\Z"):
        if pattern.endswith(anchor):
            head = pattern[: -len(anchor)]
            if (len(head) - len(head.rstrip("\\"))) % 2 == 0:
                return True
    return False


def _has_top_level_alternation(pattern: str) -> bool:
    """True if ``pattern`` has a ``|`` outside every group and character class."""
    depth, position, in_class = 0, 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 1  # the escaped character is literal
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A "]" first in a class ("[]a]", "[^]a]") is a literal, not its end.
            if pattern.startswith("^", position + 1):
                position += 1
            if pattern.startswith("]", position + 1):
                position += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        position += 1
    return False


def _compile_filters(filters: Mapping[str, object]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compile each filter, refusing bad regexes, unnamed groups and repeated group names."""
    compiled: list[tuple[str, re.Pattern[str]]] = []
    groups: dict[str, str] = {}
    for key, pattern in filters.items():
        if not isinstance(pattern, str):
            raise RoutingError(f"filter {key}= must be a regex str, not {type(pattern).__name__}: {pattern!r}")
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise RoutingError(f"filter {key}={pattern!r} is not a valid regex: {exc}") from exc
        # Matches are passed as keyword arguments, so every group needs a name.
        if regex.groups > len(regex.groupindex):
            raise RoutingError(f"filter {key}={pattern!r} has an unnamed group: only named groups (?P<name>...)")
        for group in regex.groupindex:
            if group in groups:
                raise RoutingError(
                    f"group {group!r} is defined twice, in filter {groups[group]}= and in {key}={pattern!r}: "
                    "each keyword argument can have one value"
                )
            groups[group] = key
        compiled.append((key, regex))
    return tuple(compiled)


def _check_channels(names: Iterable[object], where: str) -> tuple[str, ...]:
    """The valid, non-reply channel names in ``names``, without repeats."""
    checked: dict[str, None] = {}
    for raw in names:
        try:
            name = validate_channel_name(raw)
        except InvalidChannelName as exc:
            raise RoutingError(f"{where}: {exc}") from exc
        # A reply channel belongs to one process; workers never consume it.
        if is_reply_channel(name):
            raise RoutingError(f"{where}: {name!r} is a reply channel, which no route can consume")
        checked[name] = None
    if not checked:
        raise RoutingError(f"{where}: no channel given")
    return tuple(checked)


def _class_channels(consumer_class: object) -> tuple[str, ...]:
    """The channels a consumer class names with its ``channel_names()`` classmethod."""
    where = f"route_class({_name_of(consumer_class)})"
    if not isinstance(consumer_class, type):
        raise RoutingError(f"{where}: not a class but a {type(consumer_class).__name__}")
    channel_names = getattr(consumer_class, "channel_names", None)
    if not callable(channel_names):
        raise RoutingError(f"{where}: the class has no channel_names(); use route(channels, consumer) instead")
    names = channel_names()
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise RoutingError(f"{where}: channel_names() must return an iterable of names, not {names!r}")
    # Channels 1.x returns a set: sort it so the route's repr does not change between runs.
    return _check_channels(sorted(names) if isinstance(names, set | frozenset) else names, where)


def _import(path: str, what: str) -> object:
    """The object at dotted ``path`` (``package.module.attribute``)."""
    module_name, _, attribute = path.rpartition(".")
    if not module_name:
        raise RoutingError(f"cannot import {what} {path!r}: not a dotted path 'module.attribute'")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # any failure while importing user code is a routing error
        raise RoutingError(f"cannot import {what} {path!r}: {type(exc).__name__}: {exc}") from exc


def _name_of(target: object) -> str:
    if isinstance(target, str):
        return target
    module, qualname = getattr(target, "__module__", None), getattr(target, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return repr(target)  # e.g. a functools.partial or a callable instance


def _filters_repr(filters: Mapping[str, str]) -> str:
    return "".join(f", {key}={pattern!r}" for key, pattern in filters.items())
