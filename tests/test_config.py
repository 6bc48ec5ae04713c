"""Config: defaults, parsing, errors naming the variable, the generated API key file."""
from __future__ import annotations

import os
import stat

import pytest

from hub.config import Config, ConfigError, documented_variables, parse_duration

ROOT = os.path.dirname(os.path.dirname(__file__))


def test_defaults_match_the_design():
    config = Config.from_env({}, dotenv_path="/nonexistent")
    assert config.database_url == "sqlite:///hub.db"
    assert config.engine == "neonize" and config.sandbox is True
    assert config.retry_schedule == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert config.webhook_timeout == 10 and config.port == 3000 and config.host == "127.0.0.1"
    assert config.block_private_urls is False and config.trusted_networks == [] and config.proxies == 0


def test_values_are_parsed():
    config = Config.from_env({"HUB_API_KEY": "a, b", "HUB_RETRY_SCHEDULE": "1s,250ms,2m",
                              "HUB_TRUSTED_NETWORKS": "127.0.0.1/32,10.0.0.0/8", "HUB_SANDBOX": "false",
                              "PORT": "8080"}, dotenv_path="/nonexistent")
    assert config.api_keys == ["a", "b"]
    assert config.retry_schedule == [1, 0.25, 120]
    assert [str(n) for n in config.trusted_networks] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert config.sandbox is False and config.port == 8080


@pytest.mark.parametrize("name,value", [("PORT", "abc"), ("PORT", "-1"), ("HUB_SANDBOX", "maybe"),
                                        ("HUB_RETRY_SCHEDULE", "5x"), ("HUB_TRUSTED_NETWORKS", "not-a-cidr"),
                                        ("HUB_ENGINE", "baileys"), ("HUB_WEBHOOK_TIMEOUT", "0"),
                                        ("HUB_RATE_LIMIT", "fast"), ("HUB_RATE_LIMIT", "-5/s"),
                                        ("HUB_RATE_LIMIT", "0/s"), ("HUB_RATE_LIMIT", "50/s burst 0")])
def test_invalid_values_name_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        Config.from_env({name: value}, dotenv_path="/nonexistent")
    assert name in str(error.value)


def test_dotenv_is_read_and_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("HUB_ENGINE=sandbox\nPORT=4000\n")
    config = Config.from_env({"PORT": "5000"}, dotenv_path=str(dotenv))
    assert config.engine == "sandbox" and config.port == 5000


def test_api_key_generated_once_saved_beside_database_mode_600(tmp_path, capsys):
    config = Config.for_tests(tmp_path, api_keys=[])
    first = config.with_api_key_file()
    key_file = tmp_path / "hub.key"
    assert key_file.read_text().strip() == first.api_keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.api_keys[0] in capsys.readouterr().err  # printed once
    second = config.with_api_key_file()
    assert second.api_keys == first.api_keys
    assert capsys.readouterr().err == ""  # not printed again


def test_every_variable_is_documented_in_the_readme():
    with open(os.path.join(ROOT, "README.md")) as file:
        readme = file.read()
    for name in documented_variables():
        assert f"`{name}`" in readme or name in ("PORT", "HOST") and "`PORT` / `HOST`" in readme, name


def test_parse_duration():
    assert parse_duration("5s") == 5 and parse_duration("2h") == 7200 and parse_duration("10") == 10
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_legacy_token_names_are_keys_only_while_hub_api_key_is_unset():
    legacy = Config.from_env({"API_STATIC_TOKEN": "bot-token", "API_KEY": "multi-key"}, dotenv_path="/nonexistent")
    assert legacy.api_keys == ["bot-token", "multi-key"]
    [warning] = legacy.startup_warnings()
    assert "API_STATIC_TOKEN and API_KEY" in warning and "bot-token" not in warning and "multi-key" not in warning
    preferred = Config.from_env({"HUB_API_KEY": "hub-key", "API_KEY": "multi-key"}, dotenv_path="/nonexistent")
    assert preferred.api_keys == ["hub-key"] and preferred.startup_warnings() == []
    assert Config.from_env({"API_KEY": " "}, dotenv_path="/nonexistent").api_keys == []
