"""The operator's commands on the appliance's database: contractors and their plans.

    smetabot contractors list
    smetabot plan list
    smetabot plan set <contractor> <plan> [--until YYYY-MM-DD]

They work on the database in the data dir of the config (or ``--data-dir``), also while
``smetabot serve`` runs (SQLite in WAL mode takes a second writer, briefly).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import typer

from smetabot import config as config_mod
from smetabot import errors
from smetabot.billing import Billing, BillingError
from smetabot.contractors import Contractor, Contractors
from smetabot.db import Database

contractors_cli = typer.Typer(no_args_is_help=True, help="The contractors using the bot.")
plan_cli = typer.Typer(no_args_is_help=True, help="Plans: what contractors may do.")

_DATA_DIR = typer.Option(None, "--data-dir", help="The appliance's data dir (default: "
                         "storage.data_dir of the config).")
_CONFIG = typer.Option(None, "--config", help="Config file (default: ./config.toml).")


@dataclass
class _Store:
    db: Database
    billing: Billing
    contractors: Contractors


def _fail(message: str, code: int = errors.EXIT_USAGE) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


@contextlib.asynccontextmanager
async def _open(config_file: Path | None, data_dir: Path | None) -> AsyncIterator[_Store]:
    from smetabot.datadir import DataDir

    config_at = config_mod.config_path(config_file)
    if data_dir is None and not config_at.exists():
        raise errors.ConfigError(problem=f"no config at {config_at}: run `smetabot init` "
                                         "(or pass --config or --data-dir)")
    cfg = config_mod.load(config_at)
    path = DataDir(data_dir or Path(cfg["storage.data_dir"])).database
    if not path.exists():
        raise errors.ConfigError(problem=f"no database at {path}: pass --data-dir, or run "
                                         "`smetabot serve` once")
    db = Database(path)
    await db.open()
    try:
        billing = Billing(db, cfg)
        await billing.sync_plans()
        yield _Store(db, billing, Contractors(db))
    finally:
        await db.close()


def _run(coro) -> None:
    try:
        asyncio.run(coro)
    except errors.SmetaBotError as exc:
        _fail(exc.message("en"), exc.exit_code)


def _limit(used: int, limit: int | None) -> str:
    return f"{used}/{_or_dash(limit)}"


def _or_dash(limit: int | None) -> str:
    return "-" if limit is None else str(limit)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


async def find(contractors: Contractors, who: str) -> Contractor | None:
    """A contractor by Telegram id or @username."""
    if who.strip().isdigit():
        return await contractors.get(int(who))
    name = who.strip().lstrip("@").lower()
    return next((c for c in await contractors.all()
                 if c.username and c.username.lower() == name), None)


@contractors_cli.command("list")
def contractors_list(config_file: Path | None = _CONFIG,
                     data_dir: Path | None = _DATA_DIR) -> None:
    """Every contractor: account, plan, end date, channels and this month's publications
    (clients of channels who never connected an account are not contractors)."""

    async def main() -> None:
        async with _open(config_file, data_dir) as store:
            rows = [["ID", "NAME", "USERNAME", "ACCOUNT", "PLAN", "UNTIL", "CHANNELS",
                     "PUBLICATIONS"]]
            for c in await store.contractors.all():
                sub = await store.billing.subscription(c.id)
                usage = await store.billing.usage(c.id)
                rows.append([str(c.id), c.first_name or "-", f"@{c.username}" if c.username
                             else "-", c.session_state, sub.plan.code,
                             sub.ends_at[:10] if sub.ends_at else "-",
                             _limit(usage.channels, sub.plan.max_channels),
                             _limit(usage.publications, sub.plan.max_publications)])
            clients = await store.contractors.clients_only()
            not_listed = (f"{clients} client(s) of channels, who never connected an account, "
                          "are not contractors and not listed.") if clients else ""
            if len(rows) == 1:
                typer.echo("No contractors yet." + (" " + not_listed if not_listed else ""))
                return
            typer.echo(_table(rows))
            typer.echo(f"\n{len(rows) - 1} contractor(s); usage of {usage.month} (UTC).")
            if not_listed:
                typer.echo(not_listed)

    _run(main())


@plan_cli.command("list")
def plan_list(config_file: Path | None = _CONFIG,
              data_dir: Path | None = _DATA_DIR) -> None:
    """The plans of the config and their limits (read from the config: works before the first
    `smetabot serve`)."""
    del data_dir  # accepted like the other commands'; the plans live in the config
    config_at = config_mod.config_path(config_file)
    try:
        cfg = config_mod.load(config_at)
    except errors.SmetaBotError as exc:
        _fail(exc.message("en"), exc.exit_code)
    rows = [["PLAN", "TITLE", "CHANNELS", "PUBLICATIONS/MONTH"]]
    for code, plan in cfg["billing.plans"].items():
        rows.append([code, plan["title"], _or_dash(plan.get("channels")),
                     _or_dash(plan.get("publications"))])
    typer.echo(_table(rows))
    typer.echo(f"\nWithout a plan of their own, contractors are on {cfg['billing.default_plan']}.")
    if not config_at.exists():
        typer.echo(f"\nNo config at {config_at}: these are the built-in plans. Run `smetabot "
                   "init` to write a config with your own.")


@plan_cli.command("set")
def plan_set(
    contractor: str = typer.Argument(..., help="Telegram id or @username of the contractor."),
    plan: str = typer.Argument(..., help="Plan code, e.g. pro (see `smetabot plan list`)."),
    until: str | None = typer.Option(None, "--until", help="Last day of the plan, "
                                        "YYYY-MM-DD (UTC); without it, no end."),
    config_file: Path | None = _CONFIG,
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Put a contractor on a plan, from now (until the end of --until)."""
    last_day = None
    if until is not None:
        try:
            last_day = date.fromisoformat(until)
        except ValueError:
            _fail(f"--until: {until!r} is not a date like 2026-12-31")

    async def main() -> None:
        async with _open(config_file, data_dir) as store:
            found = await find(store.contractors, contractor)
            if found is None:
                _fail(f"no contractor {contractor!r}; see `smetabot contractors list`")
            try:
                sub = await store.billing.set_plan(found.id, plan, last_day)
            except BillingError as exc:
                _fail(exc.message("en"))
            name = found.first_name + (f" (@{found.username})" if found.username else "")
            ends = f" until {sub.ends_at[:10]} (inclusive)" if sub.ends_at else ", no end date"
            typer.echo(f"{found.id} {name} is on plan {sub.plan.code} “{sub.plan.title}”{ends}.")

    _run(main())
