"""Routing (pure): route, route_class, include, @consumer and the Router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from realtime import routing
from realtime.exceptions import RoutingError
from realtime.routing import Match, Router, consumer, include, route, route_class

from .routing_fixtures import ChatConsumer, NoChannelNames, chat_connect, chat_disconnect, poll_consumer

FIXTURES = "tests.realtime.routing_fixtures"
ROOM = r"^/(?P<room>[a-zA-Z0-9_]+)/$"


@pytest.fixture(autouse=True)
def isolated_decorated_routes() -> Iterator[list[routing.Route]]:
    """Each test starts with no decorated routes; whatever it registers is dropped after."""
    saved = list(routing.decorated_routes)
    routing.decorated_routes.clear()
    yield routing.decorated_routes
    routing.decorated_routes[:] = saved


def explicit(*entries: routing.Route | routing.Include) -> Router:
    return Router(list(entries), include_decorated=False)


def consumer_for(router: Router, channel: str, content: dict[str, Any]) -> object:
    """The consumer chosen for a message, or None."""
    found = router.match(channel, content)
    return None if found is None else found.consumer


def other(message: Any) -> None:
    """A second consumer, to tell routes apart."""


# --- route: channels, filters, keyword arguments -------------------------------------


def test_named_groups_become_keyword_arguments() -> None:
    router = explicit(route("websocket.connect", chat_connect, path=ROOM))
    assert router.match("websocket.connect", {"path": "/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )


def test_route_without_filters_matches_any_content_of_its_channel() -> None:
    router = explicit(route("websocket.disconnect", chat_disconnect))
    assert router.match("websocket.disconnect", {}) == Match(chat_disconnect, {}, f"{FIXTURES}.chat_disconnect")
    assert router.match("websocket.connect", {}) is None


@pytest.mark.parametrize(
    ("content", "kwargs"),
    [
        ({"path": "/poll/", "method": "POST"}, {}),
        ({"path": "/poll/", "method": "GET"}, None),
        ({"path": "/other/", "method": "POST"}, None),
        ({"path": "/poll/"}, None),
    ],
)
def test_every_filter_must_match(content: dict[str, Any], kwargs: dict[str, str] | None) -> None:
    router = explicit(route("http.request", poll_consumer, path=r"^/poll/$", method=r"^POST$"))
    expected = None if kwargs is None else Match(poll_consumer, kwargs, f"{FIXTURES}.poll_consumer")
    assert router.match("http.request", content) == expected


def test_groups_of_several_filters_are_merged() -> None:
    router = explicit(route("http.request", poll_consumer, path=r"^/(?P<page>\w+)/$", method=r"^(?P<verb>GET|POST)$"))
    found = router.match("http.request", {"path": "/poll/", "method": "GET"})
    assert found is not None
    assert found.kwargs == {"page": "poll", "verb": "GET"}


def test_filter_uses_re_match_anchored_at_the_start_only() -> None:
    router = explicit(route("http.request", poll_consumer, path=r"/poll"))
    assert router.match("http.request", {"path": "/poll/more"}) is not None
    assert router.match("http.request", {"path": "/x/poll"}) is None


def test_group_that_took_no_part_is_left_out_so_defaults_apply() -> None:
    router = explicit(route("http.request", poll_consumer, path=r"^/poll/(?:(?P<page>\d+)/)?$"))
    assert router.match("http.request", {"path": "/poll/"}) == Match(poll_consumer, {}, f"{FIXTURES}.poll_consumer")
    found = router.match("http.request", {"path": "/poll/3/"})
    assert found is not None
    assert found.kwargs == {"page": "3"}


def test_bytes_value_is_decoded_as_utf8() -> None:
    router = explicit(route("websocket.connect", chat_connect, path=r"^/(?P<room>\w+)/$"))
    found = router.match("websocket.connect", {"path": "/café/".encode()})
    assert found is not None
    assert found.kwargs == {"room": "café"}


@pytest.mark.parametrize("value", [None, 7, 1.5, ["/lobby/"], {"p": "/lobby/"}, b"/\xff/", bytearray(b"/lobby/")])
def test_non_str_value_does_not_match(value: object) -> None:
    router = explicit(route("websocket.connect", chat_connect, path=r"^/"))
    assert router.match("websocket.connect", {"path": value}) is None


def test_missing_key_does_not_match() -> None:
    router = explicit(route("websocket.connect", chat_connect, path=r"^.*$"))
    assert router.match("websocket.connect", {"other": "/lobby/"}) is None


def test_route_may_consume_several_channels() -> None:
    router = explicit(route(["websocket.connect", "websocket.receive"], other))
    assert router.channels == frozenset({"websocket.connect", "websocket.receive"})
    assert router.match("websocket.receive", {}) == Match(other, {}, f"{__name__}.other")


# --- first match wins, index by channel ------------------------------------------------


def test_first_matching_route_wins() -> None:
    router = explicit(
        route("websocket.connect", chat_connect, path=r"^/(?P<room>lobby)/$"),
        route("websocket.connect", other, path=r"^/"),
        route("websocket.connect", chat_disconnect),
    )
    assert router.match("websocket.connect", {"path": "/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )
    assert router.match("websocket.connect", {"path": "/kitchen/"}) == Match(other, {}, f"{__name__}.other")
    assert router.match("websocket.connect", {}) == Match(chat_disconnect, {}, f"{FIXTURES}.chat_disconnect")


def test_routes_of_other_channels_do_not_disturb_the_order() -> None:
    router = explicit(
        route("a", other, path=r"^/x"),
        route(["b", "a"], chat_disconnect),
        route("a", poll_consumer),
    )
    assert consumer_for(router, "a", {"path": "/x"}) is other
    assert consumer_for(router, "a", {"path": "/y"}) is chat_disconnect
    assert consumer_for(router, "b", {"path": "/x"}) is chat_disconnect
    assert router.match("c", {"path": "/x"}) is None
    assert router.channels == frozenset({"a", "b"})


# --- include: the seeds' example, joins, nesting -----------------------------------------


def test_seeds_example_flattens_and_joins_the_path() -> None:
    router = Router(f"{FIXTURES}.routing")
    assert [(entry.channels, entry.consumer, entry.filters) for entry in router.routes] == [
        (("websocket.connect",), chat_connect, {"path": r"^/chat/(?P<room>[a-zA-Z0-9_]+)/$"}),
        (("websocket.disconnect",), chat_disconnect, {"path": r"^/chat"}),
        (("http.request",), poll_consumer, {"path": r"^/poll/$", "method": r"^POST$"}),
    ]
    assert router.match("websocket.connect", {"path": "/chat/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )
    assert router.match("websocket.connect", {"path": "/lobby/"}) is None
    assert consumer_for(router, "websocket.disconnect", {"path": "/chat/lobby/"}) is chat_disconnect
    assert consumer_for(router, "http.request", {"path": "/poll/", "method": "POST"}) is poll_consumer
    assert router.match("http.request", {"path": "/poll/", "method": "GET"}) is None


def test_keys_filtered_on_one_side_only_are_kept() -> None:
    router = explicit(include([route("http.request", poll_consumer, path=r"^/poll/$")], method=r"^(?P<verb>GET)$"))
    assert router.routes[0].filters == {"method": r"^(?P<verb>GET)$", "path": r"^/poll/$"}
    assert router.match("http.request", {"path": "/poll/", "method": "GET"}) == Match(
        poll_consumer, {"verb": "GET"}, f"{FIXTURES}.poll_consumer"
    )
    assert router.match("http.request", {"path": "/poll/", "method": "POST"}) is None


def test_nested_includes_join_repeatedly() -> None:
    inner = [route("websocket.connect", chat_connect, path=r"^/(?P<room>\w+)/$")]
    router = explicit(include([include(inner, path=r"^/b")], path=r"^/a"))
    assert router.routes[0].filters == {"path": r"^/a/b/(?P<room>\w+)/$"}
    assert router.match("websocket.connect", {"path": "/a/b/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )
    assert router.match("websocket.connect", {"path": "/b/lobby/"}) is None


def test_same_list_may_be_included_twice() -> None:
    inner = [route("websocket.connect", chat_connect, path=r"^/(?P<room>\w+)/$")]
    router = explicit(include(inner, path=r"^/one"), include(inner, path=r"^/two"))
    assert [entry.filters["path"] for entry in router.routes] == [r"^/one/(?P<room>\w+)/$", r"^/two/(?P<room>\w+)/$"]


def test_include_accepts_a_tuple() -> None:
    router = explicit(include((route("x", other),), path=r"^/p"))
    assert router.routes[0].filters == {"path": r"^/p"}


@pytest.mark.parametrize(
    ("outer", "inner", "says"),
    [
        (
            r"/chat",
            ROOM,
            r"cannot join include filter path='/chat' with inner path=.*both patterns must start with '\^'",
        ),
        (r"^/chat", r"/(?P<room>\w+)/$", r"both patterns must start with '\^'"),
        (r"^/chat$", ROOM, r"include's pattern ends with '\$'"),
        (r"^/chat\Z", ROOM, r"include's pattern ends with '\$'"),
        (r"^/(?P<room>\w+)", ROOM, r"both define the named group\(s\) room"),
        (r"^/a|^/b", ROOM, r"top-level '\|'"),
        (r"^/chat", r"^/a/$|^/b/$", r"top-level '\|'"),
    ],
)
def test_patterns_that_cannot_be_joined_are_refused(outer: str, inner: str, says: str) -> None:
    entries = [include([route("websocket.connect", chat_connect, path=inner)], path=outer)]
    with pytest.raises(RoutingError, match=says):
        Router(entries, include_decorated=False)


@pytest.mark.parametrize(
    ("outer", "inner", "joined"),
    [
        (r"^/cost\$", r"^/x$", r"^/cost\$/x$"),  # an escaped "$" is a literal
        (r"^/(?:a|b)", r"^/x$", r"^/(?:a|b)/x$"),  # "|" inside a group is fine
        (r"^/[|]", r"^/[]|]$", r"^/[|]/[]|]$"),  # and inside a character class
    ],
)
def test_patterns_that_look_anchored_or_alternated_but_are_not_join(outer: str, inner: str, joined: str) -> None:
    router = explicit(include([route("x", other, path=inner)], path=outer))
    assert router.routes[0].filters == {"path": joined}


def test_duplicate_group_from_nested_includes_is_refused() -> None:
    entries = [include([include([route("x", other)], path=r"^/(?P<a>\w+)")], path=r"^/(?P<a>\w+)")]
    with pytest.raises(RoutingError, match="both define the named group"):
        Router(entries, include_decorated=False)


def test_include_cycle_is_refused() -> None:
    cyclic: list[routing.Route | routing.Include] = [route("x", other)]
    cyclic.append(include(cyclic))
    with pytest.raises(RoutingError, match="include cycle"):
        Router(cyclic, include_decorated=False)


# --- dotted paths ------------------------------------------------------------------------


def test_dotted_consumer_is_imported_when_the_router_is_built() -> None:
    entry = route("websocket.connect", f"{FIXTURES}.chat_connect", path=ROOM)
    assert entry.consumer == f"{FIXTURES}.chat_connect"
    router = Router([entry], include_decorated=False)
    assert router.match("websocket.connect", {"path": "/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )


def test_dotted_routing_list_is_imported_by_include() -> None:
    router = explicit(include(f"{FIXTURES}.http_routing", path=r"^/api"))
    assert router.routes[0].filters == {"path": r"^/api/poll/$", "method": r"^POST$"}
    assert router.routes[0].consumer is poll_consumer


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("tests.realtime.no_such_module.consumer", "cannot import consumer 'tests.realtime.no_such_module.consumer': "
         "ModuleNotFoundError"),
        (f"{FIXTURES}.no_such_name", f"cannot import consumer '{FIXTURES}.no_such_name': AttributeError"),
        ("nodots", "cannot import consumer 'nodots': not a dotted path"),
        (f"{FIXTURES}.NOT_A_CONSUMER", f"consumer {FIXTURES}.NOT_A_CONSUMER is a int, which cannot be called"),
    ],
)  # fmt: skip
def test_dotted_consumer_that_cannot_be_used_is_refused(path: str, says: str) -> None:
    entry = route("x", path)  # nothing is imported yet
    with pytest.raises(RoutingError, match=says):
        Router([entry], include_decorated=False)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (f"{FIXTURES}.missing", f"cannot import routing list '{FIXTURES}.missing': AttributeError"),
        (f"{FIXTURES}.NOT_A_ROUTING_LIST", "a routing list must be a list or tuple, not dict"),
    ],
)
def test_dotted_routing_list_that_cannot_be_used_is_refused(path: str, says: str) -> None:
    with pytest.raises(RoutingError, match=says):
        Router(path, include_decorated=False)
    with pytest.raises(RoutingError, match=says):
        explicit(include(path))


def test_import_error_is_chained() -> None:
    with pytest.raises(RoutingError) as caught:
        Router([route("x", "tests.realtime.no_such_module.c")], include_decorated=False)
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


# --- route_class ---------------------------------------------------------------------------


def test_route_class_takes_the_channels_from_channel_names() -> None:
    entry = route_class(ChatConsumer, path=ROOM)
    assert entry.channels == ("websocket.connect", "websocket.receive")
    router = explicit(entry)
    assert router.channels == frozenset({"websocket.connect", "websocket.receive"})
    assert router.match("websocket.receive", {"path": "/lobby/"}) == Match(
        ChatConsumer, {"room": "lobby"}, f"{FIXTURES}.ChatConsumer"
    )


def test_route_class_by_dotted_path() -> None:
    entry = route_class(f"{FIXTURES}.ChatConsumer")
    assert entry.channels == ()
    router = explicit(entry)
    assert router.routes[0].channels == ("websocket.connect", "websocket.receive")
    assert router.match("websocket.connect", {}) == Match(ChatConsumer, {}, f"{FIXTURES}.ChatConsumer")


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (NoChannelNames, rf"route_class\({FIXTURES}.NoChannelNames\): the class has no channel_names\(\)"),
        (chat_connect, rf"route_class\({FIXTURES}.chat_connect\): not a class but a function"),
    ],
)
def test_route_class_without_channel_names_is_refused(target: Any, says: str) -> None:
    with pytest.raises(RoutingError, match=says):
        route_class(target)


def test_route_class_by_dotted_path_without_channel_names_is_refused_when_built() -> None:
    entry = route_class(f"{FIXTURES}.NoChannelNames")
    with pytest.raises(RoutingError, match="the class has no channel_names"):
        explicit(entry)


def test_route_class_with_bad_channel_names_is_refused() -> None:
    class OneName:
        @classmethod
        def channel_names(cls) -> str:
            return "websocket.connect"

    class ReplyName:
        @classmethod
        def channel_names(cls) -> list[str]:
            return ["websocket.send!gw1.abc"]

    with pytest.raises(RoutingError, match="channel_names\\(\\) must return an iterable of names"):
        route_class(OneName)
    with pytest.raises(RoutingError, match="is a reply channel"):
        route_class(ReplyName)


# --- declaration errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"path": r"^/(\w+)/$"}, r"filter path='\^/\(\\\\w\+\)/\$' has an unnamed group: only named groups"),
        ({"path": r"^/(?P<room>(\w+))/$"}, "has an unnamed group: only named groups"),
        ({"path": r"^/(?P<room"}, r"filter path='\^/\(\?P<room' is not a valid regex: "),
        ({"path": b"^/"}, "filter path= must be a regex str, not bytes"),
        (
            {"path": r"^/(?P<x>a)", "method": r"(?P<x>GET)"},
            "group 'x' is defined twice, in filter path= and in method=",
        ),
    ],
)
def test_bad_filters_are_refused(filters: dict[str, Any], says: str) -> None:
    with pytest.raises(RoutingError, match=says):
        route("x", other, **filters)
    with pytest.raises(RoutingError, match=says):
        include([], **filters)


@pytest.mark.parametrize(
    ("channel", "says"),
    [
        ("websocket.send!gw1.abc", r"route to tests.realtime.test_routing.other: 'websocket.send!gw1.abc' is a reply"),
        ("bad name", "may only contain a-z"),
        ("", "must not be empty"),
        ([], "no channel given"),
        (["ok", 3], "must be a str, not int"),
    ],
)
def test_bad_channels_are_refused(channel: Any, says: str) -> None:
    with pytest.raises(RoutingError, match=says):
        route(channel, other)


def test_channel_error_is_a_value_error_chained_to_the_naming_error() -> None:
    with pytest.raises(ValueError, match="may only contain") as caught:
        route("bad name", other)
    assert type(caught.value.__cause__).__name__ == "InvalidChannelName"


def test_consumer_must_be_callable_or_dotted_path() -> None:
    with pytest.raises(RoutingError, match="a consumer must be a callable or a dotted path, not int"):
        route("x", 42)  # type: ignore[arg-type]


def test_include_needs_a_list_or_a_path() -> None:
    with pytest.raises(RoutingError, match="include\\(\\) needs a routing list or its dotted path, not Route"):
        include(route("x", other))  # type: ignore[arg-type]


def test_entry_that_is_not_a_route_is_refused() -> None:
    with pytest.raises(RoutingError, match="routing entry 1 is a function, not a route"):
        Router([route("x", other), other], include_decorated=False)  # type: ignore[list-item]


def test_routing_must_not_be_a_single_route() -> None:
    with pytest.raises(RoutingError, match="a routing list must be a list or tuple, not Route"):
        Router(route("x", other), include_decorated=False)  # type: ignore[arg-type]


# --- @consumer and decorated_routes -----------------------------------------------------------


def test_decorator_registers_in_order_and_returns_the_function(isolated_decorated_routes: list[Any]) -> None:
    def first(message: Any, room: str) -> None:
        """A decorated consumer."""

    def second(message: Any) -> None:
        """Another one."""

    decorated = consumer("websocket.connect", path=ROOM)(first)
    consumer("websocket.connect", "websocket.receive")(second)
    assert decorated is first
    assert [(entry.channels, entry.consumer, entry.filters) for entry in isolated_decorated_routes] == [
        (("websocket.connect",), first, {"path": ROOM}),
        (("websocket.connect", "websocket.receive"), second, {}),
    ]
    router = Router()
    assert consumer_for(router, "websocket.connect", {"path": "/lobby/"}) is first
    assert consumer_for(router, "websocket.connect", {"path": "nope"}) is second


def test_decorated_class_without_channels_uses_channel_names(isolated_decorated_routes: list[Any]) -> None:
    @consumer(path=ROOM)
    class Chat(ChatConsumer):
        pass

    assert isolated_decorated_routes[0].channels == ("websocket.connect", "websocket.receive")
    assert Router().match("websocket.receive", {"path": "/lobby/"}) == Match(
        Chat, {"room": "lobby"}, f"{__name__}.{Chat.__qualname__}"
    )


def test_decorated_function_without_channels_is_refused(isolated_decorated_routes: list[Any]) -> None:
    with pytest.raises(RoutingError, match=r"@consumer\(\) on tests.realtime.test_routing.other names no channel"):
        consumer()(other)
    assert isolated_decorated_routes == []


def test_routing_list_comes_before_decorated_routes() -> None:
    consumer("websocket.connect")(other)
    router = Router([route("websocket.connect", chat_connect, path=ROOM)])
    assert [entry.consumer for entry in router.routes] == [chat_connect, other]
    assert consumer_for(router, "websocket.connect", {"path": "/lobby/"}) is chat_connect
    assert consumer_for(router, "websocket.connect", {"path": "nope"}) is other


def test_include_decorated_false_leaves_them_out() -> None:
    consumer("websocket.connect")(other)
    assert Router(include_decorated=False).match("websocket.connect", {}) is None
    assert consumer_for(Router(), "websocket.connect", {}) is other


def test_router_keeps_the_decorated_routes_of_when_it_was_built() -> None:
    router = Router()
    consumer("websocket.connect")(other)
    assert router.match("websocket.connect", {}) is None


def test_decorated_registration_step_1_registers() -> None:
    consumer("leak.check")(other)
    assert "leak.check" in Router().channels


def test_decorated_registration_step_2_does_not_see_step_1() -> None:
    # Runs after step 1 in file order: the fixture must have dropped its registration.
    assert routing.decorated_routes == []
    assert "leak.check" not in Router().channels


# --- from_settings -----------------------------------------------------------------------------


def test_from_settings_reads_a_dotted_routing_path() -> None:
    with override_settings(CHANNEL_LAYERS={"default": {"ROUTING": f"{FIXTURES}.routing"}}):
        router = Router.from_settings()
    assert router.match("websocket.connect", {"path": "/chat/lobby/"}) == Match(
        chat_connect, {"room": "lobby"}, f"{FIXTURES}.chat_connect"
    )


def test_from_settings_reads_a_routing_list_of_another_alias() -> None:
    consumer("websocket.connect")(other)
    layers = {"default": {}, "chat": {"ROUTING": [route("websocket.connect", chat_connect, path=ROOM)]}}
    with override_settings(CHANNEL_LAYERS=layers):
        router = Router.from_settings("chat")
    assert [entry.consumer for entry in router.routes] == [chat_connect, other]


@pytest.mark.parametrize("layers", [{"default": {"CONFIG": {}}}, {}])
def test_from_settings_without_routing_has_only_decorated_routes(layers: dict[str, Any]) -> None:
    consumer("websocket.connect")(other)
    with override_settings(CHANNEL_LAYERS=layers):
        router = Router.from_settings()
    assert [entry.consumer for entry in router.routes] == [other]


def test_from_settings_unknown_alias_is_refused() -> None:
    with (
        override_settings(CHANNEL_LAYERS={"default": {}}),
        pytest.raises(RoutingError, match=r"no channel layer 'chat' in CHANNEL_LAYERS \(have: \['default'\]\)"),
    ):
        Router.from_settings("chat")


def test_from_settings_bad_routing_path_is_refused() -> None:
    with (
        override_settings(CHANNEL_LAYERS={"default": {"ROUTING": f"{FIXTURES}.nothing"}}),
        pytest.raises(RoutingError, match="cannot import routing list"),
    ):
        Router.from_settings()


# --- repr ----------------------------------------------------------------------------------------


def test_reprs_read_like_the_declarations() -> None:
    assert repr(route("websocket.connect", chat_connect, path=ROOM)) == (
        f"route('websocket.connect', {FIXTURES}.chat_connect, path='^/(?P<room>[a-zA-Z0-9_]+)/$')"
    )
    assert repr(route(["a", "b"], f"{FIXTURES}.other")) == f"route(['a', 'b'], '{FIXTURES}.other')"
    assert repr(route_class(ChatConsumer)) == f"route_class({FIXTURES}.ChatConsumer)"
    assert repr(route_class("x.Y", method="^GET$")) == "route_class('x.Y', method='^GET$')"
    assert repr(include(f"{FIXTURES}.routing", path="^/chat")) == f"include('{FIXTURES}.routing', path='^/chat')"
    assert repr(include([route("x", other)])) == "include(<list of 1>)"
    assert repr(Router(f"{FIXTURES}.routing")) == "<Router 3 routes on 3 channels>"
