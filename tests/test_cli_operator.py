"""`smetabot contractors list` and `smetabot plan …` on a real database, through CliRunner."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot import config
from smetabot.billing import Billing
from smetabot.cli import app as cli_app
from smetabot.contractors import Contractors
from smetabot.db import Database
from tests.helpers import run

cli = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir whose database has two contractors, one with two live channels."""
    root = tmp_path / "data"
    root.mkdir()

    async def fill() -> None:
        db = Database(root / "smetabot.db")
        await db.open()
        contractors = Contractors(db)
        await contractors.touch(700000002, "Иван", "ivan", "ru")
        await contractors.touch(700000003, "John", None, "en")
        await contractors.set_session_state(700000002, "connected")
        for status in ("ready", "waiting_admin", "archived"):
            await db.execute("INSERT INTO core_channels (contractor_id, title, status) "
                             "VALUES (700000002, 'x', ?)", (status,))
        await db.close()

    run(fill())
    return root


@pytest.fixture
def config_file(tmp_path: Path, data_dir: Path) -> Path:
    """A config naming the data dir and a Pro plan."""
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\ndata_dir = "{data_dir}"\n\n[billing.plans.pro]\n'
                    'title = "Pro"\nchannels = 30\npublications = 500\n')
    return path


def smetabot(*args: str):
    result = cli.invoke(cli_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def subscriptions(data_dir: Path, contractor: int):
    async def read():
        db = Database(data_dir / "smetabot.db")
        await db.open()
        try:
            cfg = config.load(None, env={"SMETABOT_BILLING_PLANS": '{"pro": {}}'})
            return await Billing(db, cfg).subscription(contractor)
        finally:
            await db.close()

    return run(read())


def test_contractors_list_shows_plans_and_usage(config_file):
    code, out, err = smetabot("contractors", "list", "--config", str(config_file))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "USERNAME", "ACCOUNT", "PLAN", "UNTIL", "CHANNELS",
                                "PUBLICATIONS"]
    assert lines[1].split() == ["700000002", "Иван", "@ivan", "connected", "free", "-", "2/3",
                                "0/20"]
    assert lines[2].split() == ["700000003", "John", "-", "none", "free", "-", "0/3", "0/20"]
    assert "2 contractor(s)" in out


def test_plan_set_by_username_until_a_date_then_listed(config_file, data_dir):
    last_day = (date.today() + timedelta(days=60)).isoformat()
    code, out, err = smetabot("plan", "set", "@ivan", "pro", "--until", last_day,
                              "--config", str(config_file))
    assert code == 0, err
    assert out.strip() == f"700000002 Иван (@ivan) is on plan pro “Pro” until {last_day} " \
                          "(inclusive)."
    sub = subscriptions(data_dir, 700000002)
    assert sub.plan.code == "pro" and sub.ends_at.startswith(last_day)
    code, out, _ = smetabot("contractors", "list", "--config", str(config_file))
    assert out.splitlines()[1].split()[4:7] == ["pro", last_day, "2/30"]
    # By id, without an end; the data dir given on the command line.
    code, out, err = smetabot("plan", "set", "700000003", "pro", "--data-dir", str(data_dir),
                              "--config", str(config_file))
    assert code == 0 and out.strip().endswith("is on plan pro “Pro”, no end date."), err


def test_plan_list_shows_the_config_plans(config_file):
    code, out, _ = smetabot("plan", "list", "--config", str(config_file))
    assert code == 0
    assert [line.split()[:4] for line in out.splitlines()[:3]] == [
        ["PLAN", "TITLE", "CHANNELS", "PUBLICATIONS/MONTH"], ["free", "Free", "3", "20"],
        ["pro", "Pro", "30", "500"]]
    assert "Without a plan of their own, contractors are on free." in out


def test_plan_list_before_the_first_serve(tmp_path, monkeypatch):
    # A config written by init, no data dir yet: the plans come from the config.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text(
        f'[storage]\ndata_dir = "{tmp_path / "not-yet"}"\n' + config.SAMPLE_PLANS.replace(
            "# [billing.plans.pro]\n# title", "[billing.plans.pro]\ntitle").replace(
            "# channels = 30\n# publications", "channels = 30\npublications"))
    code, out, err = smetabot("plan", "list")
    assert code == 0, err
    assert [line.split()[:4] for line in out.splitlines()[:3]] == [
        ["PLAN", "TITLE", "CHANNELS", "PUBLICATIONS/MONTH"], ["free", "Бесплатный", "3", "20"],
        ["pro", "Pro", "30", "500"]]
    assert not (tmp_path / "not-yet").exists()
    # No config at all: the built-in plan, and what to do.
    (tmp_path / "config.toml").unlink()
    code, out, err = smetabot("plan", "list")
    assert code == 0 and "Traceback" not in out + err
    assert out.splitlines()[1].split() == ["free", "Free", "3", "20"]
    assert "No config at config.toml: these are the built-in plans. Run `smetabot init`" in out
    # The commands that need the database say so.
    code, _, err = smetabot("contractors", "list")
    assert code == 78
    assert err.strip() == ("Error: Configuration error: no config at config.toml: run `smetabot "
                           "init` (or pass --config or --data-dir)")


@pytest.mark.parametrize("args,words", [
    (["plan", "set", "ivan", "gold"], "there is no plan “gold”; plans: free, pro"),
    (["plan", "set", "@nobody", "pro"], "no contractor '@nobody'"),
    (["plan", "set", "ivan", "pro", "--until", "31.12.2026"], "is not a date like 2026-12-31"),
    (["plan", "set", "ivan", "pro", "--until", "2020-01-01"], "the date 2020-01-01 has passed"),
])
def test_plan_set_mistakes_are_one_clear_line(config_file, data_dir, args, words):
    code, _, err = smetabot(*args, "--config", str(config_file))
    assert code == 64
    assert err.startswith("Error: ") and words in err and "Traceback" not in err
    assert subscriptions(data_dir, 700000002).plan.code == "free"


def test_a_data_dir_without_a_database_is_named(tmp_path, config_file):
    empty = tmp_path / "empty"
    code, _, err = smetabot("contractors", "list", "--data-dir", str(empty),
                            "--config", str(config_file))
    assert code == 78
    assert f"no database at {empty / 'smetabot.db'}" in err
    assert not empty.exists()
