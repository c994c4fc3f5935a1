"""`smetabot install-service`: the systemd unit, hardened, with this binary and this config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot import service
from smetabot.cli import app

cli = CliRunner()
REPO = Path(__file__).resolve().parents[1]
HARDENING = ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
             "RestrictSUIDSGID=yes", "CapabilityBoundingSet=", "UMask=0077"]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "var" / "smetabot"}"\n')
    return path


def unit_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_dry_run_shows_the_unit_and_changes_nothing(tmp_path, config_file):
    result = cli.invoke(app, ["install-service", "--dry-run", "--user", "smeta",
                              "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    lines = unit_lines(result.stdout)
    data = tmp_path / "var" / "smetabot"
    binary = " ".join(service.this_binary())
    assert f"ExecStart={binary} serve --config {config_file} --data-dir {data}" in lines
    assert {"User=smeta", "Group=smeta", f"ReadWritePaths={data}",
            f"WorkingDirectory={data}"} <= set(lines)
    assert set(HARDENING) <= set(lines)
    assert "# would: create the system user smeta (no login shell), unless it exists" in \
        result.stdout
    assert "# would: write /etc/systemd/system/smetabot.service" in result.stdout
    assert not data.exists()


def test_install_under_a_root_writes_the_unit_only(tmp_path, config_file):
    root = tmp_path / "image"
    result = cli.invoke(app, ["install-service", "--root", str(root),
                              "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    unit = root / "etc/systemd/system/smetabot.service"
    assert f"Wrote {unit}." in result.stdout
    assert "systemctl enable --now smetabot" in result.stdout
    text = unit.read_text()
    assert "User=smetabot" in text and "[Install]\nWantedBy=multi-user.target" in text
    # A binary or data under /home cannot be hidden by ProtectHome=yes: read-only then.
    protect = "read-only" if str(tmp_path).startswith(("/home", "/root")) else "yes"
    assert f"ProtectHome={protect}" in unit_lines(text)
    if shutil.which("systemd-analyze"):
        checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                 text=True, timeout=60, check=False)
        assert checked.returncode == 0, checked.stderr
        assert "Unknown" not in checked.stderr and "ignoring" not in checked.stderr, \
            checked.stderr


def test_the_shipped_unit_is_the_commands_output_for_the_default_paths():
    shipped = (REPO / "deploy" / "smetabot.service").read_text()
    plan = service.Plan(user="smetabot", binary=service.DEFAULT_BINARY,
                        config=service.DEFAULT_CONFIG, data_dir=service.DEFAULT_DATA_DIR)
    assert shipped == plan.unit_text()
    assert "ExecStart=/usr/local/bin/smetabot serve --config /etc/smetabot/config.toml " \
           "--data-dir /var/lib/smetabot" in shipped


def test_mistakes_are_one_line(tmp_path, config_file):
    result = cli.invoke(app, ["install-service", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 78
    assert result.stderr.startswith(f"Error: Configuration error: no config at "
                                    f"{tmp_path / 'none.toml'}: run `smetabot init` first")
    result = cli.invoke(app, ["install-service", "--user", "-rf", "--dry-run",
                              "--config", str(config_file)])
    assert result.exit_code == 78 and "--user '-rf' is not a user name" in result.stderr


def test_the_binary_is_the_one_running():
    assert service.this_binary()[0] in (sys.executable, str(Path(sys.argv[0]).absolute()))
