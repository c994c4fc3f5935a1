"""The ``smetabot`` command line."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

import typer
import typer.core

from smetabot import __version__, cli_operator, errors
from smetabot import config as config_mod

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="SmetaBot: share estimates through Telegram, readable and nothing else.")


def fail(exc: errors.SmetaBotError) -> None:
    """Print one clear line for ``exc`` and exit with its code."""
    typer.echo(f"Error: {exc.message('en')}", err=True)
    raise typer.Exit(exc.exit_code)


def crash(exc: BaseException) -> None:
    """An unexpected error: keep the traceback in a file, show a short apology."""
    ref = uuid.uuid4().hex[:8]
    report = Path(tempfile.gettempdir()) / f"smetabot-error-{ref}.log"
    trace = "".join(traceback.format_exception(exc))
    if getattr(exc, "trace", None):
        trace += f"\nIn the worker:\n{exc.trace}"
    try:
        report.write_text(trace, encoding="utf-8")
        where = f"; details in {report}"
    except OSError:
        where = ""
    typer.echo(f"Internal error (reference {ref}): this is our fault, not your file{where}.",
               err=True)
    raise typer.Exit(errors.EXIT_INTERNAL)


def _quiet_logs() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("huey").setLevel(logging.ERROR)


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


_UsageError = typer.BadParameter.__mro__[1]  # click's UsageError: typer does not export it


class _UsageIs64(typer.core.TyperCommand):
    """A command whose argument errors (unknown option, value out of range) exit 64, as the
    README promises, instead of click's 2."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _UsageError as exc:
            exc.exit_code = errors.EXIT_USAGE
            raise


@app.command(cls=_UsageIs64)
def render(
    file: Path = typer.Argument(..., help="PDF, DOCX, DOC, XLSX, XLS, ODT, ODS or RTF file."),
    pages: str | None = typer.Option(None, "--pages", help="Pages to render, e.g. 1,3,5-7."),
    watermark: str = typer.Option("", "--watermark", help="Text tiled across every page."),
    dpi: int | None = typer.Option(None, "--dpi", min=36, max=1200,
                                      help="Resolution of the PNGs (default 300)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder "
                                       "(default: <file name>-pages)."),
    previews: bool = typer.Option(False, "--previews", help="Also write ~320 px JPEG thumbnails."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file "
                                               "(default: ./config.toml if present)."),
) -> None:
    """Render a document to watermarked PNG pages, offline."""
    import asyncio
    import signal

    from smetabot.render import jobs, pipeline
    from smetabot.render.pages import PageSyntaxError
    from smetabot.render.renderer import Renderer
    from smetabot.render.tasks import create_huey

    exit_cantcreat = 73  # EX_CANTCREAT: the output cannot be created

    def usage(message: str) -> None:
        typer.echo(f"Error: {message}", err=True)
        raise typer.Exit(errors.EXIT_USAGE)

    def cannot_create(message: str) -> None:
        typer.echo(f"Error: cannot write the output: {message}", err=True)
        raise typer.Exit(exit_cantcreat)

    async def run_stoppable(renderer: Renderer, work: Path) -> pipeline.RenderResult:
        # SIGTERM cancels the render: queued pages are revoked and the caller cleans up.
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None
        stopped.clear()

        def stop() -> None:
            stopped.append(signal.SIGTERM)
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, stop)
        try:
            return await renderer.render(file, work / "done", work, pages=pages,
                                         watermark=watermark, dpi=dpi, previews=previews)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    stopped: list[int] = []
    _quiet_logs()
    try:
        cfg = config_mod.load(config_mod.config_path(config_file))
        settings = pipeline.RenderSettings.from_config(cfg.section("render"))
        if not file.is_file():
            usage(f"no such file: {file}")
        out_dir = out or Path(f"{file.stem}-pages")
        if out_dir.exists() and not out_dir.is_dir():
            cannot_create(f"{out_dir} exists and is not a folder")
        parent = next(p for p in [out_dir, *out_dir.absolute().parents] if p.exists())
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            cannot_create(f"{parent} is not a folder you can write to")
        workers = pipeline.default_workers(cfg["render.workers"])
        workdir = Path(tempfile.mkdtemp(prefix="smetabot-render-"))
        try:
            huey = create_huey(workdir / "queue.db")
            with jobs.embedded_consumer(huey, workers) as consumer:
                renderer = Renderer.on_queue(settings, huey, consumer)
                result = asyncio.run(run_stoppable(renderer, workdir))
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                for item in result.pages + result.previews:
                    target = out_dir / Path(item["path"]).name
                    shutil.move(item["path"], target)
                    item["path"] = str(target)
            except OSError as exc:
                cannot_create(f"{out_dir}: {exc.strerror or exc}")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except asyncio.CancelledError:
        if not stopped:
            raise
        typer.echo("Stopped: rendering was interrupted (SIGTERM); temporary files removed.",
                   err=True)
        raise typer.Exit(128 + signal.SIGTERM) from None
    except PageSyntaxError as exc:
        usage(f"--pages: {exc}")
    except errors.BadPageSelection as exc:
        usage(f"--pages: {exc.message('en')}")
    except errors.SmetaBotError as exc:
        if type(exc) is errors.ServiceError:
            crash(exc)
        fail(exc)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - the one place that turns surprises into a line
        crash(exc)
    shown = len(result.pages)
    summary = (f"Rendered {shown} of {result.total_pages} pages in {result.seconds:.1f} s: "
               f"{_human_size(result.bytes)} in {out_dir}/")
    if result.previews:
        summary += f" ({len(result.previews)} previews)"
    if result.scaled:
        numbers = ", ".join(str(page["page"]) for page in result.scaled)
        lowest = min(page["dpi"] for page in result.scaled)
        summary += (f"; page(s) {numbers} scaled down to {lowest:.0f} DPI to stay within "
                    f"{settings.max_megapixels:g} megapixels")
    typer.echo(summary)


# (key, question, hidden input)
_INIT_QUESTIONS = [
    ("telegram.bot_token", "Bot token from @BotFather", True),
    ("telegram.api_id", "api_id from my.telegram.org", False),
    ("telegram.api_hash", "api_hash from my.telegram.org", True),
    ("server.public_url", "Public HTTPS URL of this server (for the WebApp)", False),
    ("storage.data_dir", "Data directory", False),
    ("admins.telegram_ids", "Telegram ids of the admins (comma-separated, may be empty)", False),
]


@app.command()
def init(
    config_file: Path = typer.Option(Path("config.toml"), "--config", help="Where to write."),
    non_interactive: bool = typer.Option(False, "--non-interactive",
                                         help="Take values from flags and SMETABOT_* variables."),
    bot_token: str | None = typer.Option(None, help="Bot token from @BotFather."),
    api_id: str | None = typer.Option(None, help="api_id from my.telegram.org."),
    api_hash: str | None = typer.Option(None, help="api_hash from my.telegram.org."),
    public_url: str | None = typer.Option(None, help="Public HTTPS URL for the WebApp."),
    data_dir: str | None = typer.Option(None, help="Data directory (default ./data)."),
    admins: str | None = typer.Option(None, help="Admins' Telegram ids, comma-separated."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config."),
) -> None:
    """Write config.toml (mode 0600) and generate the secret key."""
    given = {"telegram.bot_token": bot_token, "telegram.api_id": api_id,
             "telegram.api_hash": api_hash, "server.public_url": public_url,
             "storage.data_dir": data_dir, "admins.telegram_ids": admins}
    try:
        if config_file.exists() and not force:
            raise errors.ConfigError(problem=(
                f"{config_file} already exists; use --force to overwrite it (the secret key "
                "changes, so contractors would have to connect their accounts again)"))
        values: dict[str, dict] = {}
        for dotted, question, hidden in _INIT_QUESTIONS:
            section, key = dotted.split(".", 1)
            spec = config_mod.SCHEMA[section][key]
            raw = given[dotted]
            if raw is None:
                raw = os.environ.get(config_mod.env_name(dotted))
            while True:
                if raw is None and not non_interactive:
                    default = None if spec.required else (
                        ",".join(map(str, spec.default)) if spec.type is list else spec.default)
                    raw = typer.prompt(question, default=default, hide_input=hidden,
                                       show_default=not hidden)
                if raw is None:
                    if spec.required:
                        raise errors.ConfigError(problem=(
                            f"{dotted} is required: pass --{key.replace('_', '-')} or set "
                            f"{config_mod.env_name(dotted)}"))
                    raw = spec.default
                try:
                    values.setdefault(section, {})[key] = config_mod.check_value(dotted, raw)
                    break
                except errors.ConfigError as exc:
                    if non_interactive:
                        raise
                    typer.echo(exc.message(), err=True)
                    raw = None
        values["security"] = {"secret_key": config_mod.generate_secret_key()}
        config_mod.write_private(config_file, config_mod.to_toml(values))
        config_mod.load(config_file, env={})  # what we wrote must read back
    except errors.SmetaBotError as exc:
        fail(exc)
    except OSError as exc:
        fail(errors.ConfigError(problem=f"cannot write {config_file}: {exc.strerror}"))
    typer.echo(f"Wrote {config_file} (readable by you only) with a new secret key. "
               "Keep a copy of the key: it decrypts the contractors' sessions. "
               "Next: smetabot serve")


@app.command()
def serve(
    sandbox: bool = typer.Option(False, "--sandbox", help="Run against the built-in Telegram "
                                 "emulator: no bot token, no network, no config needed."),
    host: str | None = typer.Option(None, "--host", help="Address to listen on."),
    port: int | None = typer.Option(None, "--port", min=0, max=65535,
                                       help="Port to listen on (default 8080)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where everything is kept."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file "
                                               "(default: ./config.toml)."),
) -> None:
    """Run the appliance: the bot, the WebApp server and the render workers."""
    import asyncio

    from smetabot.app import App

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("pyrogram").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    throwaway: Path | None = None
    try:
        path = config_mod.config_path(config_file)
        if sandbox:
            cfg = config_mod.load(path if config_file else None)
        else:
            if not path.exists():
                raise errors.ConfigError(problem=f"no config at {path}: run `smetabot init` "
                                                 "(or try `smetabot serve --sandbox`)")
            cfg = config_mod.load(path)
            cfg.require_complete()
        host = host or cfg["server.host"]
        port = cfg["server.port"] if port is None else port
        if data_dir is None and sandbox and not config_file:
            throwaway = data_dir = Path(tempfile.mkdtemp(prefix="smetabot-sandbox-"))
        data_dir = data_dir or Path(cfg["storage.data_dir"])
        if sandbox:
            secret_key = _sandbox_key(data_dir)
            public_url = None
        else:
            secret_key, public_url = cfg["security.secret_key"], cfg["server.public_url"]
        application = App(cfg, data_dir, host=host, port=port, sandbox=sandbox,
                          secret_key=secret_key, public_url=public_url)
        if sandbox:
            typer.echo(f"SmetaBot sandbox: nothing reaches Telegram. Data in {data_dir}. "
                       f"Open http://{host}:{port}/sandbox/ ; stop with Ctrl-C.")
        asyncio.run(application.run_until_signal())
    except errors.SmetaBotError as exc:
        if type(exc) is errors.ServiceError:
            crash(exc)
        fail(exc)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001
        crash(exc)
    finally:
        if throwaway is not None:
            shutil.rmtree(throwaway, ignore_errors=True)
    typer.echo("SmetaBot stopped.")


def _sandbox_key(data_dir: Path) -> str:
    # The sandbox's sessions are sessions of emulated users, but they are kept sealed the same
    # way; the key of a sandbox data dir lives beside it so a restart finds them again.
    key_file = data_dir / "sandbox.key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = config_mod.generate_secret_key()
    config_mod.write_private(key_file, key)
    return key


def _config_and_data(config_file: Path | None, data_dir: Path | None):
    cfg = config_mod.load(config_mod.config_path(config_file))
    return cfg, data_dir or Path(cfg["storage.data_dir"])


@app.command()
def doctor(
    config_file: Path | None = typer.Option(None, "--config", help="Config file."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Check the config, LibreOffice, the data dir, the database and the secret key."""
    from smetabot import maintenance

    try:
        cfg, data = _config_and_data(config_file, data_dir)
        checks = maintenance.doctor(cfg, data)
    except errors.SmetaBotError as exc:
        fail(exc)
    for check in checks:
        typer.echo(f"{'✓' if check.ok else '✗'} {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


@app.command()
def backup(
    out: Path | None = typer.Option(None, "--out", help="Archive to write "
                                       "(default: smetabot-backup-<date>.tar.gz)."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Save the database and the encrypted sessions into one archive (safe while serving)."""
    import time

    from smetabot import maintenance

    try:
        _, data = _config_and_data(config_file, data_dir)
        target = out or Path(f"smetabot-backup-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
        path, size = maintenance.backup(data, target)
    except errors.SmetaBotError as exc:
        fail(exc)
    except OSError as exc:
        fail(errors.StartupError(problem=f"cannot write the backup: {exc.strerror}"))
    typer.echo(f"Backup written: {path} ({_human_size(size)}). Keep the secret key apart: "
               "the sessions open only with it.")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"smetabot {__version__}")


# The operator's commands on contractors and plans (smetabot/cli_operator.py).
app.add_typer(cli_operator.contractors_cli, name="contractors")
app.add_typer(cli_operator.plan_cli, name="plan")


def _restore_library_path() -> None:
    # The one-file binary's bootloader points LD_LIBRARY_PATH at its bundled libraries; programs
    # we start (LibreOffice) must see the machine's own, or they load ours and crash.
    if getattr(sys, "frozen", False):
        original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = original


def main() -> None:
    """Entry point of the console script and of the frozen binary."""
    multiprocessing.freeze_support()
    _restore_library_path()
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
