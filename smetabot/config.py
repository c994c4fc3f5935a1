"""The appliance's configuration: ``config.toml`` with every key overridable by ``SMETABOT_*``.

A key is addressed as ``section.key`` in TOML and as ``SMETABOT_SECTION_KEY`` in the environment
(``render.dpi`` → ``SMETABOT_RENDER_DPI``). Unknown sections and keys, wrong types and missing
required keys are reported by name, as :class:`~smetabot.errors.ConfigError`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smetabot.errors import ConfigError

ENV_PREFIX = "SMETABOT_"
DEFAULT_CONFIG = Path("config.toml")


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default and whether serve needs it."""

    type: type
    default: Any = None
    required: bool = False
    secret: bool = False
    #: the type of a list's items
    item: type = int


SCHEMA: dict[str, dict[str, Key]] = {
    "telegram": {
        "bot_token": Key(str, required=True, secret=True),
        "api_id": Key(int, required=True),
        "api_hash": Key(str, required=True, secret=True),
        "proxy": Key(str, "", secret=True),
    },
    "server": {
        "host": Key(str, "127.0.0.1"),
        "port": Key(int, 8080),
        "public_url": Key(str, required=True),
    },
    "storage": {
        "data_dir": Key(str, "./data"),
    },
    "security": {
        "secret_key": Key(str, required=True, secret=True),
        "init_data_max_age": Key(int, 3600),
        "allow_other_account": Key(bool, False),
    },
    "admins": {
        "telegram_ids": Key(list, []),
        "usernames": Key(list, [], item=str),
    },
    "billing": {
        "contact": Key(str, ""),
        "default_plan": Key(str, "free"),
        "plans": Key(dict, {}),
    },
    "channels": {
        "admin_retry_seconds": Key(float, 3600.0),
        "join": Key(str, "approve"),
    },
    "analytics": {
        "views_interval": Key(float, 300.0),
        "calls_per_hour": Key(int, 60),
    },
    "render": {
        "dpi": Key(int, 300),
        "min_dpi": Key(int, 200),
        "max_file_mb": Key(int, 50),
        "max_pages": Key(int, 300),
        "max_megapixels": Key(float, 40.0),
        "workers": Key(int, 0),
        "page_timeout": Key(float, 60.0),
        "office_timeout": Key(float, 120.0),
        "soffice": Key(str, ""),
        "png_level": Key(int, 7),
        "worker_memory_mb": Key(int, 2048),
        "upload_ttl_hours": Key(int, 24),
        "max_cells": Key(int, 2_000_000),
        "paper": Key(str, "A4"),
        "queue": Key(str, "", secret=True),  # a Redis URL may hold the queue's password
        "serve_workers": Key(int, 0),
    },
}


@dataclass
class Config:
    """Validated configuration values, by section."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def __getitem__(self, dotted: str) -> Any:
        section, key = dotted.split(".", 1)
        return self.values[section][key]

    def section(self, name: str) -> dict[str, Any]:
        """All keys of one section."""
        return dict(self.values[name])

    def missing(self) -> list[str]:
        """Required keys that have no value, as ``section.key``."""
        return [f"{s}.{k}" for s, keys in SCHEMA.items() for k, spec in keys.items()
                if spec.required and self.values[s][k] in (None, "")]

    def require_complete(self) -> None:
        """Raise ConfigError naming the first required key without a value."""
        missing = self.missing()
        if missing:
            where = self.path or DEFAULT_CONFIG
            raise ConfigError(problem=(
                f"{missing[0]} is not set in {where} (or {env_name(missing[0])}); "
                "run `smetabot init` to write a config"))


def env_name(dotted: str) -> str:
    """The environment variable that overrides ``section.key``."""
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def _coerce(dotted: str, spec: Key, value: Any, *, from_env: bool) -> Any:
    try:
        if spec.type is list:
            if from_env:
                value = str(value).replace(",", " ").split()
            if not isinstance(value, list):
                raise TypeError
            if spec.item is str:
                if not all(isinstance(item, str) for item in value):
                    raise TypeError
                return [item.strip() for item in value]
            if any(isinstance(item, (bool, float)) for item in value):
                raise TypeError
            return [int(item) for item in value]
        if spec.type is dict:
            value = json.loads(value) if from_env else value
            if not isinstance(value, dict):
                raise TypeError
            return value
        if spec.type is bool:
            if from_env:
                return str(value).strip().lower() in {"1", "true", "yes", "on"}
            if not isinstance(value, bool):
                raise TypeError
            return value
        if spec.type in (int, float) and isinstance(value, bool):
            raise TypeError
        if spec.type is str and not isinstance(value, str):
            raise TypeError
        return spec.type(value)
    except (TypeError, ValueError):
        shown = "<hidden>" if spec.secret else repr(value)
        raise ConfigError(problem=(
            f"{dotted} must be {_type_word(spec)}, got {shown}")) from None


def _type_word(spec: Key) -> str:
    if spec.type is list:
        return "a list of strings" if spec.item is str else "a list of integers"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            dict: "a table (JSON in the environment)"}[spec.type]


def load(path: Path | None = None, env: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None) -> Config:
    """Read ``path`` (if it exists), apply ``SMETABOT_*`` variables and ``overrides``."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None and path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(problem=f"{path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(problem=f"cannot read {path}: {exc.strerror}") from None
    values: dict[str, dict[str, Any]] = {}
    for section, content in raw.items():
        if section not in SCHEMA:
            raise ConfigError(problem=f"unknown section [{section}] in {path}; "
                                      f"known: {', '.join(SCHEMA)}")
        if not isinstance(content, dict):
            raise ConfigError(problem=f"[{section}] in {path} must be a table")
        for key in content:
            if key not in SCHEMA[section]:
                raise ConfigError(problem=f"unknown key {section}.{key} in {path}; known in "
                                          f"[{section}]: {', '.join(SCHEMA[section])}")
    for section, keys in SCHEMA.items():
        values[section] = {}
        for key, spec in keys.items():
            dotted = f"{section}.{key}"
            value: Any = spec.default
            if key in raw.get(section, {}):
                value = _coerce(dotted, spec, raw[section][key], from_env=False)
            if env_name(dotted) in env:
                value = _coerce(dotted, spec, env[env_name(dotted)], from_env=True)
            if overrides and dotted in overrides and overrides[dotted] is not None:
                value = _coerce(dotted, spec, overrides[dotted], from_env=False)
            values[section][key] = value
    known_env = {env_name(f"{s}.{k}") for s, keys in SCHEMA.items() for k in keys}
    for name in env:
        if name.startswith(ENV_PREFIX) and name not in known_env and name not in _OTHER_ENV:
            raise ConfigError(problem=f"unknown environment variable {name}; "
                                      "see config.example.toml for the keys")
    config = Config(values=values, path=path)
    _validate(config)
    return config


# Variables read elsewhere, not config keys.
_OTHER_ENV = {"SMETABOT_CONFIG"}


def _validate(config: Config) -> None:
    checks = [
        ("render.dpi", lambda v: 36 <= v <= 1200, "between 36 and 1200"),
        ("render.max_file_mb", lambda v: v > 0, "positive"),
        ("render.max_pages", lambda v: v > 0, "positive"),
        ("render.max_megapixels", lambda v: v > 0, "positive"),
        ("render.workers", lambda v: v >= 0, "0 (one per core) or more"),
        ("render.page_timeout", lambda v: v > 0, "positive"),
        ("render.office_timeout", lambda v: v > 0, "positive"),
        ("render.min_dpi", lambda v: 36 <= v <= 1200, "between 36 and 1200"),
        ("render.png_level", lambda v: 0 <= v <= 12, "between 0 and 12"),
        ("render.worker_memory_mb", lambda v: v >= 256, "at least 256"),
        ("render.max_cells", lambda v: v > 0, "positive"),
        ("render.paper", lambda v: v.lower() in ("a4", "a3", "a5", "letter"),
         "A4, A3, A5 or letter"),
        ("render.serve_workers", lambda v: v >= 0, "0 or more"),
        ("server.port", lambda v: 0 <= v <= 65535, "a TCP port (0-65535)"),
    ]
    for dotted, ok, words in checks:
        if not ok(config[dotted]):
            raise ConfigError(problem=f"{dotted} must be {words}, got {config[dotted]!r}")
    if config["render.queue"] and not config["render.queue"].startswith(
            ("redis://", "rediss://", "unix://")):
        # the value itself is not shown: it may hold a password
        raise ConfigError(problem='render.queue must be empty (the embedded queue) or a Redis '
                                  'URL ("redis://host:6379/0", "rediss://:password@host/0")')
    config.values["billing"]["plans"] = _plans(config["billing.plans"])
    if config["billing.default_plan"] not in config["billing.plans"]:
        raise ConfigError(problem=f"billing.default_plan names no plan: "
                                  f"{config['billing.default_plan']!r}; plans: "
                                  f"{', '.join(config['billing.plans'])}")
    if config["channels.admin_retry_seconds"] <= 0:
        raise ConfigError(problem="channels.admin_retry_seconds must be positive")
    if config["channels.join"] not in ("approve", "single_use", "open"):
        raise ConfigError(problem=f"channels.join must be one of approve, single_use, open, "
                                  f"got {config['channels.join']!r}")
    # Checked before anything connects: Telegram would only say "invalid" after a round trip,
    # and a pasted token with a space or a missing character is the usual mistake.
    for dotted in ("telegram.bot_token", "telegram.proxy"):
        if config[dotted]:
            section, key = dotted.split(".")
            config.values[section][key] = check_format(dotted, config[dotted])
    config.values["admins"]["usernames"] = [check_format("admins.usernames", name)
                                            for name in config["admins.usernames"]]


#: the plan every install has; [billing.plans.free] in the config may change its limits
FREE_PLAN = {"title": "Free", "channels": 3, "publications": 20}
_PLAN_KEYS = {"title": str, "channels": int, "publications": int}


def _plans(given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``billing.plans`` checked key by key, with the built-in free plan under the operator's."""
    plans = {"free": dict(FREE_PLAN)}
    for code, plan in given.items():
        where = f"billing.plans.{code}"
        if not re.fullmatch(r"[a-z0-9_-]{1,32}", code):
            raise ConfigError(problem=f"{where}: a plan code is 1-32 of a-z, 0-9, _ and -")
        if not isinstance(plan, dict):
            raise ConfigError(problem=f"{where} must be a table")
        # A limit left out is no limit (the free plan keeps its built-in ones).
        checked: dict[str, Any] = dict(FREE_PLAN) if code == "free" else {"title": code}
        for key, value in plan.items():
            kind = _PLAN_KEYS.get(key)
            if kind is None:
                raise ConfigError(problem=f"unknown key {where}.{key}; known: "
                                          f"{', '.join(_PLAN_KEYS)}")
            if not isinstance(value, kind) or isinstance(value, bool) or (
                    kind is int and value < 0):
                raise ConfigError(problem=f"{where}.{key} must be "
                                          f"{'a string' if kind is str else 'a whole number >= 0'}"
                                          f", got {value!r}")
            checked[key] = value
        plans[code] = checked
    return plans


def config_path(explicit: Path | None = None) -> Path:
    """The config file to use: the given one, ``$SMETABOT_CONFIG``, or ``./config.toml``."""
    if explicit is not None:
        return explicit
    if os.environ.get("SMETABOT_CONFIG"):
        return Path(os.environ["SMETABOT_CONFIG"])
    return DEFAULT_CONFIG


# --- writing a config (smetabot init) -------------------------------------------------------

#: a bot token is the bot's id, a colon and 35 characters of base64url
BOT_TOKEN = r"^[0-9]{5,16}:[A-Za-z0-9_-]{35}$"
_CHECKS: dict[str, tuple[str, str]] = {
    "telegram.bot_token": (BOT_TOKEN, (
        "is not a bot token: @BotFather gives one like 123456789:AAH… (digits, a colon, "
        "35 characters)")),
    "telegram.proxy": (
        r"^(socks5|socks4|http)://([^\s:@/]+(:[^\s@/]*)?@)?[^\s:@/]+:[0-9]{1,5}$",
        ("must look like socks5://host:1080 (or socks4://, http://; user:password@ before the "
         "host if needed)")),
    "admins.usernames": (r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$",
                         "holds a @username that cannot be one (5-32 letters, digits, _)"),
    "telegram.api_hash": (r"^[0-9a-fA-F]{32}$", "is 32 hexadecimal characters (my.telegram.org)"),
    "server.public_url": (r"^https://[^\s/]+", ("starts with https:// (Telegram opens WebApps "
                                                "over HTTPS only)")),
}


def check_value(dotted: str, value: Any) -> Any:
    """Coerce and check one value given to ``smetabot init``; raises ConfigError by name."""
    section, key = dotted.split(".", 1)
    spec = SCHEMA[section][key]
    if spec.type is list and isinstance(value, str):
        coerced = _coerce(dotted, spec, value, from_env=True)
    else:
        coerced = _coerce(dotted, spec, value, from_env=isinstance(value, str)
                          and spec.type is not str)
    if dotted in _CHECKS and spec.type is not list:
        check_format(dotted, coerced)
    if dotted == "telegram.api_id" and coerced <= 0:
        raise ConfigError(problem="telegram.api_id must be a positive integer")
    return coerced


def check_format(dotted: str, value: str) -> str:
    """``value`` if it has the form ``dotted`` needs, else ConfigError naming the key (never
    showing a secret); usernames come back without their "@"."""
    pattern, words = _CHECKS[dotted]
    if not re.match(pattern, value.strip()):
        shown = "" if SCHEMA[dotted.split(".")[0]][dotted.split(".")[1]].secret \
            else f": {value!r}"
        raise ConfigError(problem=f"{dotted} {words}{shown}")
    return value.strip().lstrip("@") if dotted == "admins.usernames" else value.strip()


def telegram_proxy(config: Config) -> dict[str, Any] | None:
    """``telegram.proxy`` as pyrogram's ``Client(proxy=...)`` takes it; None without one."""
    url = config["telegram.proxy"]
    if not url:
        return None
    match = re.match(r"^(\w+)://(?:([^:@/]+)(?::([^@/]*))?@)?([^:@/]+):([0-9]+)$", url)
    scheme, username, password, hostname, port = match.groups()
    proxy: dict[str, Any] = {"scheme": scheme, "hostname": hostname, "port": int(port)}
    if username:
        proxy.update(username=username, password=password or "")
    return proxy


def generate_secret_key() -> str:
    """32 random bytes, base64: the key that encrypts session files."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def to_toml(values: Mapping[str, Mapping[str, Any]]) -> str:
    """Serialise config values (strings, numbers, lists of integers) as TOML."""
    lines = ["# Written by `smetabot init`. Keys are documented in config.example.toml.", ""]
    for section, keys in values.items():
        lines.append(f"[{section}]")
        for key, value in keys.items():
            if isinstance(value, str):
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
            elif isinstance(value, list):
                items = (json.dumps(v, ensure_ascii=False) if isinstance(v, str) else str(int(v))
                         for v in value)
                lines.append(f"{key} = [{', '.join(items)}]")
            elif isinstance(value, bool):
                lines.append(f"{key} = {'true' if value else 'false'}")
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


#: the plans `smetabot init` writes: the free one, and a paid one to uncomment
SAMPLE_PLANS = '''# Plans: [billing.plans.<code>] with a title, `channels` (how many channels a contractor may
# have at once; archived ones do not count) and `publications` (per calendar month). Leave a
# limit out for no limit. Assign one with `smetabot plan set <contractor> <plan> [--until DATE]`
# or /plan in the bot; contractors without one are on billing.default_plan ("free").
[billing.plans.free]
title = "Бесплатный"
channels = 3
publications = 20

# A paid plan: remove the "# " in front of the next four lines, adjust, restart serve.
# [billing.plans.pro]
# title = "Pro"
# channels = 30
# publications = 500
'''
