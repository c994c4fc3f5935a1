"""The systemd unit that runs `smetabot serve` (``smetabot install-service``).

The unit runs serve as a dedicated system user that can write its data dir and nothing else
(``ProtectSystem=strict`` + ``ReadWritePaths``), never gains privileges, and sees no home
directories. ``deploy/smetabot.service`` in the repository is this module's output for the
default paths (a test keeps the two equal). Imports nothing of the app.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from smetabot import errors

UNIT_NAME = "smetabot.service"
#: the paths ``deploy/smetabot.service`` is written for
DEFAULT_BINARY = ("/usr/local/bin/smetabot",)
DEFAULT_CONFIG = Path("/etc/smetabot/config.toml")
DEFAULT_DATA_DIR = Path("/var/lib/smetabot")

_TEMPLATE = """\
# SmetaBot: `smetabot serve` as a dedicated system user. Written by `smetabot install-service`;
# run it again after moving the binary, the config or the data dir.
[Unit]
Description=SmetaBot: estimates shared through Telegram, readable and nothing else
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={user}
Group={user}
ExecStart={exec_start}
WorkingDirectory={data_dir}
# LibreOffice and fontconfig want a writable home: the data dir is the only writable place.
Environment=HOME={data_dir}
# serve stops cleanly on SIGTERM: the render workers, the bot and the web server, in order.
KillSignal=SIGTERM
TimeoutStopSec=60
Restart=on-failure
RestartSec=5
UMask=0077

# Hardening: the data dir is the only path serve can write.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={data_dir}
ProtectHome={protect_home}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service

[Install]
WantedBy=multi-user.target
"""


def this_binary() -> tuple[str, ...]:
    """How to start the SmetaBot that is running now: the one-file binary, the console script,
    or ``python -m smetabot``."""
    if getattr(sys, "frozen", False):
        return (str(Path(sys.executable).absolute()),)
    script = Path(sys.argv[0])
    if script.name == "smetabot" and script.is_file():
        return (str(script.absolute()),)
    return (str(Path(sys.executable).absolute()), "-m", "smetabot")


@dataclass
class Plan:
    """What installing the service means for these paths."""

    user: str
    binary: tuple[str, ...]
    config: Path
    data_dir: Path
    root: Path = Path("/")

    def __post_init__(self) -> None:
        if not self.user or not all(c.isalnum() or c in "_-" for c in self.user) \
                or self.user[0] == "-":
            raise errors.ConfigError(problem=f"--user {self.user!r} is not a user name")
        for name, path in (("config", self.config), ("data dir", self.data_dir)):
            if not path.is_absolute():
                raise errors.ConfigError(problem=f"the {name} path must be absolute: {path}")

    @property
    def unit_path(self) -> Path:
        """Where the unit file goes."""
        return self.root / "etc/systemd/system" / UNIT_NAME

    def unit_text(self) -> str:
        """The unit file."""
        command = [*self.binary, "serve", "--config", str(self.config),
                   "--data-dir", str(self.data_dir)]
        under_home = any(Path(p).is_relative_to(home) for p in (self.binary[0], self.config,
                                                                 self.data_dir)
                         for home in (Path("/home"), Path("/root")))
        return _TEMPLATE.format(user=self.user, exec_start=shlex.join(command),
                                data_dir=self.data_dir,
                                protect_home="read-only" if under_home else "yes")

    def steps(self) -> list[str]:
        """What :meth:`install` does, in words."""
        steps = [f"write {self.unit_path}"]
        if self.root == Path("/"):
            steps = [f"create the system user {self.user} (no login shell), unless it exists",
                     f"create {self.data_dir} owned by {self.user}, mode 0700",
                     (f"let {self.user} read {self.config}: owner root, group {self.user}, "
                     "mode 0640"), *steps, "systemctl daemon-reload"]
        return steps

    def install(self) -> list[str]:
        """Do it; returns what was done and what is left, as lines for the operator."""
        done: list[str] = []
        if self.root == Path("/"):
            if os.geteuid() != 0:
                raise errors.CannotCreate(path=self.unit_path, reason=(
                    "installing a system service needs root: run it with sudo, or see the "
                    "unit with --dry-run"))
            done += self._system_user()
        self.unit_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.unit_path.write_text(self.unit_text(), encoding="utf-8")
            os.chmod(self.unit_path, 0o644)
        except OSError as exc:
            raise errors.CannotCreate(path=self.unit_path, reason=exc.strerror) from None
        done.append(f"Wrote {self.unit_path}.")
        if self.root == Path("/") and Path("/run/systemd/system").is_dir():
            subprocess.run(["systemctl", "daemon-reload"], check=False)
            done.append("Start it now and at every boot: systemctl enable --now smetabot; "
                        "its log: journalctl -u smetabot")
        else:
            done.append(f"Not started: enable it on the target system with "
                        f"`systemctl enable --now smetabot` (runs as {self.user}, writes only "
                        f"{self.data_dir}).")
        return done

    def _system_user(self) -> list[str]:
        done = []
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            nologin = shutil.which("nologin") or "/usr/sbin/nologin"
            result = subprocess.run(["useradd", "--system", "--user-group", "--home-dir",
                                     str(self.data_dir), "--no-create-home", "--shell", nologin,
                                     self.user], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise errors.CannotCreate(path=f"the user {self.user}", reason=(
                    result.stderr.strip() or f"useradd exited {result.returncode}"))
            done.append(f"Created the system user {self.user}.")
        account = pwd.getpwnam(self.user)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            for folder, _, files in os.walk(self.data_dir):
                for path in (folder, *(os.path.join(folder, name) for name in files)):
                    os.chown(path, account.pw_uid, account.pw_gid)
            os.chmod(self.data_dir, 0o700)
            os.chown(self.config, 0, account.pw_gid)
            os.chmod(self.config, 0o640)
        except OSError as exc:
            raise errors.CannotCreate(path=exc.filename or self.data_dir,
                                      reason=exc.strerror) from None
        done.append(f"{self.data_dir} belongs to {self.user}; {self.config} is readable by "
                    f"its group.")
        return done
