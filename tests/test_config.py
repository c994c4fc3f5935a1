"""Configuration: every key documented, mistakes reported by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from smetabot import config
from smetabot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_documents_every_key_and_loads():
    example = tomllib.loads(EXAMPLE.read_text())
    documented = {f"{s}.{k}" for s, keys in example.items() for k in keys}
    schema = {f"{s}.{k}" for s, keys in config.SCHEMA.items() for k in keys}
    assert documented == schema
    loaded = config.load(EXAMPLE, env={})
    assert loaded["render.dpi"] == 300 and loaded.missing() == []


@pytest.mark.parametrize("toml,env,words", [
    ("[render]\ndpii = 1\n", {}, "unknown key render.dpii"),
    ("[rendr]\ndpi = 1\n", {}, "unknown section [rendr]"),
    ("[render]\ndpi = 'high'\n", {}, "render.dpi must be an integer, got 'high'"),
    ("[render]\ndpi = 5\n", {}, "render.dpi must be between 36 and 1200"),
    ("[render]\nmin_dpi = 0\n", {}, "render.min_dpi must be between 36 and 1200"),
    ("[render]\npng_level = 13\n", {}, "render.png_level must be between 0 and 12"),
    ("", {"SMETABOT_RENDER_DPI": "abc"}, "render.dpi must be an integer"),
    ("", {"SMETABOT_RENDER_DIP": "1"}, "unknown environment variable SMETABOT_RENDER_DIP"),
    ("[telegram]\napi_hash = 5\n", {}, "telegram.api_hash must be a string, got <hidden>"),
    ("[render\n", {}, "is not valid TOML"),
])
def test_mistakes_are_named(tmp_path, toml, env, words):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        config.load(path, env=env)
    assert words in caught.value.message()


def test_env_overrides_file_and_missing_keys_are_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[render]\ndpi = 200\n[admins]\ntelegram_ids = [1, 2]\n")
    loaded = config.load(path, env={"SMETABOT_RENDER_DPI": "150",
                                    "SMETABOT_ADMINS_TELEGRAM_IDS": "5,6"})
    assert loaded["render.dpi"] == 150
    assert loaded["admins.telegram_ids"] == [5, 6]
    with pytest.raises(ConfigError) as caught:
        loaded.require_complete()
    assert "telegram.bot_token is not set" in caught.value.message()
    assert "SMETABOT_TELEGRAM_BOT_TOKEN" in caught.value.message()


GOOD_TOKEN = "123456789:AAH" + "x" * 32


@pytest.mark.parametrize("token,ok", [
    (GOOD_TOKEN, True),
    ("7000000001:" + "A1_-" * 8 + "abc", True),
    ("123456789:AAH" + "x" * 31, False),  # a character lost when pasting
    ("123456789:AAH" + "x" * 33, False),
    (" 123456789:AAH" + "x" * 32, True),  # spaces around are forgiven
    ("123456789:AAH" + "x" * 15 + " " + "x" * 16, False),
    ("bot123456789:AAH" + "x" * 32, False),
    ("123456789AAH" + "x" * 33, False),
    ("123:AAH" + "x" * 32, False),
])
def test_a_malformed_bot_token_is_refused_at_load_without_showing_it(token, ok):
    env = {"SMETABOT_TELEGRAM_BOT_TOKEN": token}
    if ok:
        assert config.load(None, env=env)["telegram.bot_token"] == token.strip()
        return
    with pytest.raises(ConfigError) as caught:
        config.load(None, env=env)
    message = caught.value.message()
    assert message.startswith("Configuration error: telegram.bot_token is not a bot token")
    assert token.strip() not in message and "xxxx" not in message


@pytest.mark.parametrize("url,proxy", [
    ("", None),
    ("socks5://127.0.0.1:1080", {"scheme": "socks5", "hostname": "127.0.0.1", "port": 1080}),
    ("http://user:p%40ss@proxy.example:3128", {"scheme": "http", "hostname": "proxy.example",
                                               "port": 3128, "username": "user",
                                               "password": "p%40ss"}),
])
def test_telegram_proxy_for_pyrogram(url, proxy):
    loaded = config.load(None, env={"SMETABOT_TELEGRAM_PROXY": url})
    assert config.telegram_proxy(loaded) == proxy


@pytest.mark.parametrize("url", ["socks5://host", "ftp://host:21", "socks5://host:1080/x",
                                 "host:1080"])
def test_a_proxy_that_cannot_be_one_is_named(url):
    with pytest.raises(ConfigError) as caught:
        config.load(None, env={"SMETABOT_TELEGRAM_PROXY": url})
    assert "telegram.proxy must look like socks5://host:1080" in caught.value.message()


def test_admin_usernames_from_file_and_env():
    loaded = config.load(None, env={"SMETABOT_ADMINS_USERNAMES": "@Ivan_Foreman, petr_k"})
    assert loaded["admins.usernames"] == ["Ivan_Foreman", "petr_k"]
    with pytest.raises(ConfigError) as caught:
        config.load(None, env={"SMETABOT_ADMINS_USERNAMES": "@iv"})
    assert "admins.usernames holds a @username that cannot be one" in caught.value.message()


def test_the_sample_paid_plan_works_once_uncommented(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(config.SAMPLE_PLANS)
    assert list(config.load(path, env={})["billing.plans"]) == ["free"]
    path.write_text(config.SAMPLE_PLANS.replace("# [billing", "[billing").replace(
        "# title", "title").replace("# channels", "channels").replace(
        "# publications", "publications"))
    plans = config.load(path, env={})["billing.plans"]
    assert plans["pro"] == {"title": "Pro", "channels": 30, "publications": 500}
    assert plans["free"]["title"] == "Бесплатный"
