"""Reading CHANNEL_LAYERS into a LayerConfig, and get_channel_layer()."""

import pytest
from django.test import override_settings

from realtime.exceptions import LayerConfigurationError
from realtime.layers import get_channel_layer
from realtime.layers.config import LayerConfig, config_from_settings


def test_defaults_to_the_celery_broker_url() -> None:
    with override_settings(CELERY_BROKER_URL="redis://example:6379/3", CHANNEL_LAYERS={}):
        assert config_from_settings().url == "redis://example:6379/3"


def test_explicit_url_wins_over_celery() -> None:
    layers = {"default": {"URL": "amqp://h//", "CONFIG": {"expiry": 5, "channel_capacity": {"http.*": 7}}}}
    with override_settings(CELERY_BROKER_URL="redis://x//", CHANNEL_LAYERS=layers):
        config = config_from_settings()
    assert (config.url, config.expiry) == ("amqp://h//", 5)
    assert config.capacity_for("http.request") == 7


def test_without_any_broker_the_layer_is_in_memory() -> None:
    with override_settings(CELERY_BROKER_URL=None, CHANNEL_LAYERS={}):
        assert config_from_settings().url == "memory://"


def test_capacity_defaults_per_kind() -> None:
    config = LayerConfig()
    assert config.capacity_for("websocket.send!o.x") == 100
    assert config.capacity_for("websocket.receive") == 1000


@pytest.mark.parametrize(
    ("layers", "says"),
    [
        ({"default": {"CONFIG": {"expirey": 3}}}, "unknown .* keys \\['expirey'\\]"),
        ({"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}, "choose the transport with 'URL'"),
        ({"default": {"CONFIG": {"capacity": 0}}}, "capacity must be a positive int"),
        ({"default": {"CONFIG": {"expiry": -1}}}, "expiry must be > 0"),
    ],
)
def test_bad_configuration_is_reported_clearly(layers: dict, says: str) -> None:
    with override_settings(CHANNEL_LAYERS=layers), pytest.raises(LayerConfigurationError, match=says):
        config_from_settings()


def test_unknown_alias() -> None:
    with override_settings(CHANNEL_LAYERS={}), pytest.raises(LayerConfigurationError, match="no channel layer 'other'"):
        config_from_settings("other")


def test_unsupported_url_scheme() -> None:
    with (
        override_settings(CHANNEL_LAYERS={"default": {"URL": "sqs://queue"}}),
        pytest.raises(LayerConfigurationError, match="scheme 'sqs' is not supported"),
    ):
        get_channel_layer()


def test_get_channel_layer_is_shared_and_rebuilt_when_settings_change() -> None:
    with override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://a"}}):
        first = get_channel_layer()
        assert get_channel_layer() is first
    with override_settings(CHANNEL_LAYERS={"default": {"URL": "memory://b"}}):
        assert get_channel_layer() is not first
