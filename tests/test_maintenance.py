"""`smetabot doctor` and `smetabot backup` through the CLI."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import tarfile

from typer.testing import CliRunner

from smetabot.cli import app
from tests.helpers import SECRET, sandbox_app

cli = CliRunner()


def write_config(tmp_path, secret=SECRET):
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\nbot_token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\napi_id = 1\n'
        'api_hash = "0123456789abcdef0123456789abcdef"\n[server]\n'
        'public_url = "https://x.example"\n'
        f'[security]\nsecret_key = "{secret}"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    return config


def make_data(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            await app.contractors.touch(ivan, "Иван", None, "ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            return ivan
    return asyncio.run(scenario())


def test_doctor_on_a_healthy_install(tmp_path):
    config = write_config(tmp_path)
    make_data(tmp_path)
    result = cli.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 0, result.stdout
    assert "✓ LibreOffice: LibreOffice" in result.stdout
    assert "✓ database: integrity ok; schema up to date" in result.stdout
    assert "✓ secret key: opens the session vault" in result.stdout


def test_doctor_names_what_is_wrong(tmp_path):
    config = write_config(tmp_path, secret="b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzJi")
    make_data(tmp_path)
    config.write_text(config.read_text().replace('api_id = 1\n', '')
                      + '[render]\nsoffice = "/nowhere/soffice"\n')
    result = cli.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 1
    assert "✗ config: missing: telegram.api_id" in result.stdout
    assert "✗ LibreOffice:" in result.stdout
    assert "✗ secret key:" in result.stdout and "not the one" in result.stdout


def test_backup_holds_database_and_sealed_sessions_only(tmp_path):
    config = write_config(tmp_path)
    ivan = make_data(tmp_path)
    target = tmp_path / "backup.tar.gz"
    result = cli.invoke(app, ["backup", "--config", str(config), "--out", str(target)])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with tarfile.open(target) as archive:
        names = set(archive.getnames())
        assert {"smetabot.db", "sessions", f"sessions/{ivan}.session.enc",
                "README.txt"} <= names
        assert not any(name.startswith(("uploads", "tmp", "queue")) for name in names)
        archive.extract("smetabot.db", tmp_path / "restored", filter="data")
    with sqlite3.connect(tmp_path / "restored/smetabot.db") as restored:
        assert restored.execute("SELECT id FROM core_contractors").fetchall() == [(ivan,)]
    result = cli.invoke(app, ["backup", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code != 0 and "nothing to back up" in result.stderr
