"""`smetabot init`: the operator's language, the Telegram id explained, @usernames accepted,
a sample paid plan beside the free one."""

from __future__ import annotations

import stat
import tomllib

import pytest
from typer.testing import CliRunner

from smetabot import config
from smetabot.cli import app, operator_language

cli = CliRunner()
TOKEN = "123456789:AAH" + "x" * 32
HASH = "0123456789abcdef0123456789abcdef"


def answers(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("env,lang", [
    ({"LANG": "ru_RU.UTF-8"}, "ru"),
    ({"LANG": "ru_RU.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),  # LC_ALL wins, as in libc
    ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
])
def test_operator_language_follows_the_locale(env, lang):
    assert operator_language(env) == lang


def test_init_in_russian_explains_the_id_and_takes_usernames(tmp_path):
    target = tmp_path / "config.toml"
    result = cli.invoke(app, ["init", "--config", str(target)],
                        env={"LANG": "ru_RU.UTF-8", "LC_ALL": None, "LC_MESSAGES": None},
                        input=answers("12345:short", TOKEN, "1234567", HASH,
                                      "http://insecure.example", "https://smeta.example",
                                      str(tmp_path / "data"), "123456789, @Ivan_Foreman"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Настройка SmetaBot: ответы будут записаны в {target}" in out
    assert "Токен бота от @BotFather" in out and "api_id с my.telegram.org" in out
    assert "Это не токен бота: @BotFather выдаёт токен вида 123456789:AAH…" in out
    assert "Адрес должен начинаться с https://" in out
    assert "откройте в Telegram бота @userinfobot" in out
    assert "Можно ввести и @username: serve найдёт id при запуске." in out
    assert f"Записан {target} (доступен только вам)" in out
    assert "12345:short" not in out and TOKEN not in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = tomllib.loads(target.read_text())
    assert written["admins"] == {"telegram_ids": [123456789], "usernames": ["Ivan_Foreman"]}
    assert written["billing"]["plans"] == {
        "free": {"title": "Бесплатный", "channels": 3, "publications": 20}}
    # The paid plan is there, commented, ready to be switched on.
    text = target.read_text()
    assert "# [billing.plans.pro]\n# title = \"Pro\"\n# channels = 30\n# publications = 500" in text
    loaded = config.load(target, env={})
    assert loaded.missing() == [] and loaded["admins.usernames"] == ["Ivan_Foreman"]


def test_init_in_english_elsewhere(tmp_path):
    target = tmp_path / "config.toml"
    result = cli.invoke(app, ["init", "--config", str(target)],
                        env={"LANG": "en_US.UTF-8", "LC_ALL": None, "LC_MESSAGES": None},
                        input=answers(TOKEN, "1234567", HASH, "https://smeta.example",
                                      str(tmp_path / "data"), ""))
    assert result.exit_code == 0, result.output
    assert "A Telegram id is a number: open @userinfobot" in result.output
    assert "a free plan (a paid one is there to uncomment)" in result.output
    written = tomllib.loads(target.read_text())
    assert written["admins"] == {"telegram_ids": [], "usernames": []}


def test_init_non_interactive_with_usernames_and_a_bad_one(tmp_path):
    target = tmp_path / "config.toml"
    base = ["init", "--non-interactive", "--config", str(target), "--bot-token", TOKEN,
            "--api-id", "1", "--api-hash", HASH, "--public-url", "https://x.example"]
    result = cli.invoke(app, [*base, "--admins", "@boss_man,42"])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(target.read_text())["admins"] == {"telegram_ids": [42],
                                                           "usernames": ["boss_man"]}
    result = cli.invoke(app, [*base, "--force", "--admins", "@b!"])
    assert result.exit_code == 78
    assert result.stderr.strip() == ("Error: Configuration error: admins.usernames holds a "
                                      "@username that cannot be one (5-32 letters, digits, _): "
                                      "'@b!'")


def test_init_without_answers_says_how_to_script_it(tmp_path):
    target = tmp_path / "config.toml"
    result = cli.invoke(app, ["init", "--config", str(target)], input="",
                        env={"LANG": "C", "LC_ALL": None, "LC_MESSAGES": None})
    assert result.exit_code == 64
    assert result.stderr.strip() == ("Error: the input ended before every question was "
                                      "answered; in scripts, use --non-interactive with flags "
                                      "or SMETABOT_* variables")
    assert not target.exists()
