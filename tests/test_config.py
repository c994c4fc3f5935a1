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
