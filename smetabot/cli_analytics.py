"""The operator's analytics commands:

    smetabot trace CODE                    which publication a page's tracking code is from
    smetabot stats [--since DATE] [--csv]  per contractor: channels, publications, pages, ...

They read the database in the data dir of the config (or ``--data-dir``), also while ``smetabot
serve`` runs. ``cli.py`` registers them: ``app.command("trace")(cli_analytics.trace)`` and
``app.command("stats")(cli_analytics.stats)``.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from datetime import date
from pathlib import Path

import typer

from smetabot import config as config_mod
from smetabot import errors
from smetabot.analytics import Analytics, ContractorStats, Trace
from smetabot.approvals import Approval, Approvals
from smetabot.db import Database

_DATA_DIR = typer.Option(None, "--data-dir", help="The appliance's data dir (default: "
                         "storage.data_dir of the config).")
_CONFIG = typer.Option(None, "--config", help="Config file (default: ./config.toml).")


def _database(config_file: Path | None, data_dir: Path | None) -> Path:
    from smetabot.datadir import DataDir

    if data_dir is None:
        cfg = config_mod.load(config_mod.config_path(config_file))
        data_dir = Path(cfg["storage.data_dir"])
    path = DataDir(data_dir).database
    if not path.exists():
        raise errors.ConfigError(problem=f"no database at {path}: pass --data-dir, or run "
                                         "`smetabot serve` once")
    return path


async def _ask(path: Path, question):
    db = Database(path)
    await db.open()
    try:
        return await question(Analytics(db))
    finally:
        await db.close()


def _run(config_file: Path | None, data_dir: Path | None, question):
    try:
        return asyncio.run(_ask(_database(config_file, data_dir), question))
    except errors.SmetaBotError as exc:
        typer.echo(f"Error: {exc.message('en')}", err=True)
        raise typer.Exit(exc.exit_code) from None


def trace_lines(found: Trace) -> list[str]:
    """The operator's answer to a trace, in English."""
    lines = [f"Code:        #{found.code}",
             (f"Publication: {found.publication_id} \"{found.file_name}\", pages "
             f"{', '.join(map(str, found.pages))}"),
             f"Contractor:  {found.contractor_id} {found.contractor_name}",
             f"Channel:     \"{found.channel_title}\" ({found.channel_status})",
             f"Published:   {found.published_at}",
             "Members then and since:"]
    lines += [f"  {name}: joined {joined}" + (f", left {left}" if left else "")
              for name, joined, left in found.members] or ["  nobody but the contractor"]
    if found.views is not None and any(p.views is not None for p in found.views.pages):
        opened = found.views.opened
        lines.append("Pages opened by others: " + (", ".join(map(str, opened)) or "none"))
    return lines


def approval_line(approval: Approval | None) -> str:
    """The trace's line about the client's approval."""
    if approval is None:
        return "Approved:    not yet"
    return (f"Approved:    by {approval.who} (Telegram id {approval.user_id}) at "
            f"{approval.approved_at}, code #{approval.tracking_code}, {approval.pages} pages")


async def _trace(analytics: Analytics, code: str) -> tuple[Trace | None, Approval | None]:
    found = await analytics.trace(code)
    if found is None:
        return None, None
    return found, await Approvals(analytics.db).approval(found.publication_id)


def trace(code: str = typer.Argument(..., help="The code printed on the page (e.g. K7M2P)."),
          config_file: Path | None = _CONFIG, data_dir: Path | None = _DATA_DIR) -> None:
    """Which publication a tracking code belongs to: channel, when, members, pages, approval."""
    found, approval = _run(config_file, data_dir, lambda analytics: _trace(analytics, code))
    if found is None:
        typer.echo(f"No publication has the code {code.strip().lstrip('#').upper()}.", err=True)
        raise typer.Exit(1)
    typer.echo("\n".join([*trace_lines(found), approval_line(approval)]))


async def _figures(analytics: Analytics, since: str | None) -> tuple[list[ContractorStats],
                                                                       dict[int, tuple[int, int]]]:
    return await analytics.stats(since), await Approvals(analytics.db).counts(since)


def stats(since: str | None = typer.Option(None, "--since", help="Count from this date on "
                                           "(YYYY-MM-DD)."),
          as_csv: bool = typer.Option(False, "--csv", help="Write CSV to standard output."),
          config_file: Path | None = _CONFIG, data_dir: Path | None = _DATA_DIR) -> None:
    """Per contractor: channels, publications, pages rendered, failures, clients, views,
    approvals, questions."""
    if since is not None:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            typer.echo(f"Error: --since {since!r} is not a date like 2026-12-31.", err=True)
            raise typer.Exit(errors.EXIT_USAGE) from None
    rows, answers = _run(config_file, data_dir, lambda analytics: _figures(analytics, since))
    full = [[*row.row(), *answers.get(row.contractor_id, (0, 0))] for row in rows]
    columns = (*ContractorStats.COLUMNS, "approvals", "questions")
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\r\n")  # RFC 4180, as LibreOffice reads
        writer.writerow(columns)
        for values in full:
            writer.writerow(values)
        return
    headers = ("contractor", "name", "channels", "publications", "pages", "failures",
               "clients", "views", "approvals", "questions")
    table = [headers] + [tuple(str(v) for v in values) for values in full]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    for r in table:
        typer.echo("  ".join(v.ljust(w) if i < 2 else v.rjust(w)
                             for i, (v, w) in enumerate(zip(r, widths))).rstrip())
    totals = [sum(values[i] for values in full) for i in range(2, len(columns))]
    typer.echo("Total: " + ", ".join(f"{c} {v}" for c, v in zip(columns[2:], totals)))
