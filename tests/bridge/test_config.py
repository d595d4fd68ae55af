"""The gateway's configuration."""

import pytest
from django.test import override_settings

from bridge.config import GatewayConfig, GatewayConfigurationError, config_from_settings


def test_defaults_and_origins_from_allowed_hosts() -> None:
    with override_settings(ALLOWED_HOSTS=["example.com"], DEBUG=False):
        config = config_from_settings()
    assert config.max_message_size == 1024 * 1024
    assert config.allowed_origins == ("example.com",)


def test_settings_then_command_line_overrides() -> None:
    with override_settings(REALTIME_GATEWAY={"send_queue": 10, "allowed_origins": ["*"]}):
        config = config_from_settings(send_queue=20)
    assert config.send_queue == 20
    assert config.allowed_origins == ("*",)


def test_unknown_and_impossible_options_are_refused() -> None:
    with (
        override_settings(REALTIME_GATEWAY={"max_mesage_size": 1}),
        pytest.raises(GatewayConfigurationError, match="unknown REALTIME_GATEWAY options \\['max_mesage_size'\\]"),
    ):
        config_from_settings()
    with pytest.raises(GatewayConfigurationError, match="send_queue must be > 0"):
        GatewayConfig(send_queue=0)
