"""The ``smetabot`` command line."""



from __future__ import annotations

import contextlib
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
from typer.core import TyperGroup

from smetabot import __version__, cli_analytics, cli_operator, errors
from smetabot import config as config_mod

try:  # typer 0.2x carries its own click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - typer with the separate click package
    from click.exceptions import NoArgsIsHelpError, UsageError


@contextlib.contextmanager
def _usage_errors():
    try:
        yield
    except NoArgsIsHelpError:  # typer has printed the help already
        raise typer.Exit(errors.EXIT_USAGE) from None
    except UsageError as exc:
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        typer.echo(f"Error: {exc.format_message()}{where}", err=True)
        raise typer.Exit(errors.EXIT_USAGE) from None
    except typer.Abort as exc:  # a question left unanswered (init's prompts)
        if isinstance(exc.__context__, EOFError):
            typer.echo("Error: the input ended before every question was answered; in scripts, "
                       "use --non-interactive with flags or SMETABOT_* variables", err=True)
            raise typer.Exit(errors.EXIT_USAGE) from None
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None


class Commands(TyperGroup):
    """The command group: a mistake in the arguments (an unknown option, a value out of range)
    is one line and exit 64, EX_USAGE (click's own is a box and 2)."""

    def make_context(self, *args, **kwargs):
        with _usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _usage_errors():
            return super().invoke(ctx)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=Commands,
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
                                      help="Highest resolution of a page (default 300); pages "
                                           "whose text allows go down to render.min_dpi."),
    out: Path | None = typer.Option(None, "--out", help="Output folder "
                                       "(default: <file name>-pages)."),
    previews: bool = typer.Option(False, "--previews", help="Also write contact sheets "
                                     "(up to 20 numbered pages per JPEG)."),
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
    if result.pages:
        least = min(page["dpi"] for page in result.pages)
        most = max(page["dpi"] for page in result.pages)
        summary += f" at {least:.0f} DPI" if round(least) == round(most) else \
            f" at {least:.0f}-{most:.0f} DPI"
    if result.previews:
        sheets = len(result.previews)
        summary += f" ({sheets} contact sheet{'s' if sheets > 1 else ''})"
    if result.scaled:
        numbers = ", ".join(str(page["page"]) for page in result.scaled)
        lowest = min(page["dpi"] for page in result.scaled)
        summary += (f"; page(s) {numbers} scaled down to {lowest:.0f} DPI to stay within "
                    f"{settings.max_megapixels:g} megapixels")
    typer.echo(summary)


# (key, hidden input) in the order init asks; the words are in _INIT_TEXTS.
_INIT_QUESTIONS = [
    ("telegram.bot_token", True),
    ("telegram.api_id", False),
    ("telegram.api_hash", True),
    ("server.public_url", False),
    ("storage.data_dir", False),
    ("admins.telegram_ids", False),
]

_INIT_TEXTS = {
    "en": {
        "intro": "SmetaBot setup: the answers go into {config} (readable by you only).",
        "telegram.bot_token": "Bot token from @BotFather",
        "telegram.api_id": "api_id from my.telegram.org",
        "telegram.api_hash": "api_hash from my.telegram.org",
        "server.public_url": "Public HTTPS URL of this server (for the WebApp)",
        "storage.data_dir": "Data directory",
        "admins.telegram_ids": "Admins: Telegram ids or @usernames, comma-separated "
                               "(may be empty)",
        "admins.help": "Admins manage plans in the bot (/admin). A Telegram id is a number: open "
                       "@userinfobot in Telegram and press Start, it answers with yours. You may "
                       "type @username instead: serve looks up its id when it starts.",
        "done": "Wrote {config} (readable by you only) with a new secret key and a free plan "
                "(a paid one is there to uncomment). Keep a copy of the key: it decrypts the "
                "contractors' sessions. Next: smetabot doctor --online, then smetabot serve",
    },
    "ru": {
        "intro": "Настройка SmetaBot: ответы будут записаны в {config} (доступен только вам).",
        "telegram.bot_token": "Токен бота от @BotFather",
        "telegram.api_id": "api_id с my.telegram.org",
        "telegram.api_hash": "api_hash с my.telegram.org",
        "server.public_url": "Публичный HTTPS-адрес этого сервера (для WebApp)",
        "storage.data_dir": "Папка данных",
        "admins.telegram_ids": "Администраторы: Telegram id или @username через запятую "
                               "(можно оставить пустым)",
        "admins.help": "Администраторы управляют тарифами в боте (/admin). Telegram id — это "
                       "число: откройте в Telegram бота @userinfobot и нажмите «Старт», он "
                       "ответит вашим id. Можно ввести и @username: serve найдёт id при запуске.",
        "done": "Записан {config} (доступен только вам): новый секретный ключ и бесплатный тариф "
                "(платный там же, его достаточно раскомментировать). Сохраните копию ключа: им "
                "зашифрованы сеансы подрядчиков. Дальше: smetabot doctor --online, затем "
                "smetabot serve",
        # What to fix, when an answer is refused (the config error names the key in English).
        "bad.telegram.bot_token": "Это не токен бота: @BotFather выдаёт токен вида "
                                  "123456789:AAH… (цифры, двоеточие, 35 символов).",
        "bad.telegram.api_id": "api_id — это положительное число с my.telegram.org.",
        "bad.telegram.api_hash": "api_hash — это 32 шестнадцатеричных символа с my.telegram.org.",
        "bad.server.public_url": "Адрес должен начинаться с https:// — Telegram открывает WebApp "
                                 "только по HTTPS.",
        "bad.admins.telegram_ids": "Введите числа (Telegram id) или @username через запятую.",
    },
}


def operator_language(env=None) -> str:
    """"ru" when the operator's locale (LC_ALL, LC_MESSAGES, LANG) is Russian, else "en"."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return "ru" if env[name].lower().startswith("ru") else "en"
    return "en"


def _admins(raw: str) -> tuple[list[int], list[str]]:
    """Admins as typed: ids and @usernames, comma- or space-separated."""
    ids, names = [], []
    for part in raw.replace(",", " ").split():
        if part.isdigit():
            ids.append(int(config_mod.check_value("admins.telegram_ids", part)[0]))
        else:
            names.append(config_mod.check_format("admins.usernames", part))
    return ids, names


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
    admins: str | None = typer.Option(None, help="Admins' Telegram ids or @usernames, "
                                                 "comma-separated."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config."),
) -> None:
    """Write config.toml (mode 0600) with a new secret key; in Russian for a Russian locale."""
    lang = operator_language()
    words = {**_INIT_TEXTS["en"], **_INIT_TEXTS[lang]}
    given = {"telegram.bot_token": bot_token, "telegram.api_id": api_id,
             "telegram.api_hash": api_hash, "server.public_url": public_url,
             "storage.data_dir": data_dir, "admins.telegram_ids": admins}
    try:
        if config_file.exists() and not force:
            raise errors.ConfigError(problem=(
                f"{config_file} already exists; use --force to overwrite it (the secret key "
                "changes, so contractors would have to connect their accounts again)"))
        if not non_interactive:
            typer.echo(words["intro"].format(config=config_file))
        values: dict[str, dict] = {}
        for dotted, hidden in _INIT_QUESTIONS:
            section, key = dotted.split(".", 1)
            spec = config_mod.SCHEMA[section][key]
            raw = given[dotted]
            if raw is None:
                raw = os.environ.get(config_mod.env_name(dotted))
            if dotted == "admins.telegram_ids" and raw is None and not non_interactive:
                typer.echo(words["admins.help"])
            while True:
                if raw is None and not non_interactive:
                    default = None if spec.required else (
                        ",".join(map(str, spec.default)) if spec.type is list else spec.default)
                    raw = typer.prompt(words[dotted], default=default, hide_input=hidden,
                                       show_default=not hidden)
                if raw is None:
                    if spec.required:
                        raise errors.ConfigError(problem=(
                            f"{dotted} is required: pass --{key.replace('_', '-')} or set "
                            f"{config_mod.env_name(dotted)}"))
                    raw = spec.default
                try:
                    if dotted == "admins.telegram_ids":
                        ids, names = _admins(raw if isinstance(raw, str) else
                                             ",".join(map(str, raw)))
                        values["admins"] = {"telegram_ids": ids, "usernames": names}
                    else:
                        values.setdefault(section, {})[key] = config_mod.check_value(dotted, raw)
                    break
                except errors.ConfigError as exc:
                    if non_interactive:
                        raise
                    typer.echo(words.get(f"bad.{dotted}", exc.message()), err=True)
                    raw = None
        values["security"] = {"secret_key": config_mod.generate_secret_key()}
        config_mod.write_private(config_file, config_mod.to_toml(values)
                                 + config_mod.SAMPLE_PLANS)
        config_mod.load(config_file, env={})  # what we wrote must read back
    except errors.SmetaBotError as exc:
        fail(exc)
    except OSError as exc:
        fail(errors.CannotCreate(path=config_file, reason=exc.strerror))
    typer.echo(words["done"].format(config=config_file))


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

    from smetabot.maintenance import ServeLock

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("pyrogram").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    throwaway: Path | None = None
    lock: ServeLock | None = None
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
        # Held while serving: `restore` and a second serve on the same data dir are refused.
        # Taking it also checks the data dir can be written, in both modes, before anything.
        lock = ServeLock(data_dir).acquire()
        if sandbox:
            secret_key = _sandbox_key(data_dir)
            public_url = None
        else:
            secret_key, public_url = cfg["security.secret_key"], cfg["server.public_url"]
        from smetabot.app import App
        from smetabot.render import office

        # LibreOffice's work folders go under the data dir's temp folder (wiped at every start),
        # after killing any soffice a killed previous run left converting there.
        tmp = Path(data_dir) / "tmp"
        if tmp.is_dir():
            office.sweep_orphans(tmp)
        with contextlib.suppress(OSError):  # an unusable data dir is reported by the App
            tmp.mkdir(parents=True, exist_ok=True)
        os.environ["TMPDIR"] = str(tmp)
        tempfile.tempdir = None
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
        if lock is not None:
            lock.release()
        if throwaway is not None:
            shutil.rmtree(throwaway, ignore_errors=True)
    typer.echo("SmetaBot stopped.")


def _sandbox_key(data_dir: Path) -> str:
    # The sandbox's sessions are sessions of emulated users, but they are kept sealed the same
    # way; the key of a sandbox data dir lives beside it so a restart finds them again.
    key_file = data_dir / "sandbox.key"
    try:
        if key_file.exists():
            return key_file.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        key = config_mod.generate_secret_key()
        config_mod.write_private(key_file, key)
    except OSError as exc:
        raise errors.CannotCreate(path=key_file, reason=exc.strerror) from None
    return key


def _config_and_data(config_file: Path | None, data_dir: Path | None):
    cfg = config_mod.load(config_mod.config_path(config_file))
    return cfg, data_dir or Path(cfg["storage.data_dir"])


@app.command()
def doctor(
    config_file: Path | None = typer.Option(None, "--config", help="Config file."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
    online: bool = typer.Option(False, "--online", help="Also log the bot in to Telegram: "
                                "checks the token and that Telegram can be reached."),
    timeout: float = typer.Option(30.0, "--timeout", min=1, max=600,
                                  help="Seconds --online waits for Telegram."),
) -> None:
    """Check the config, LibreOffice, the data dir, the database and the secret key."""
    # Exit 78 when the config is (among) the problem(s), 69 when only something else is.
    import asyncio

    from smetabot import maintenance

    _quiet_logs()
    logging.getLogger("pyrogram").setLevel(logging.CRITICAL)  # the check says it in a line
    try:
        cfg, data = _config_and_data(config_file, data_dir)
        checks = maintenance.doctor(cfg, data)
        if online:
            missing = [key for key in cfg.missing() if key.startswith("telegram.")]
            if missing:
                checks.append(maintenance.Check("Telegram", False, "not checked: "
                                                + ", ".join(missing) + " not set"))
            else:
                checks.extend(asyncio.run(maintenance.check_telegram(cfg, timeout)))
    except errors.SmetaBotError as exc:
        fail(exc)
    for check in checks:
        typer.echo(f"{'✓' if check.ok else '✗'} {check.name}: {check.detail}")
    failed = {check.name for check in checks if not check.ok}
    if failed & {"config", "secret key"}:
        raise typer.Exit(errors.EXIT_CONFIG)
    if failed:
        raise typer.Exit(errors.EXIT_UNAVAILABLE)


@app.command()
def backup(
    out: Path | None = typer.Option(None, "--out", help="Archive to write "
                                       "(default: smetabot-backup-<date>.tar.gz)."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Save the database and the sealed sessions in one archive (0600; safe while serving)."""
    # Exit 73: the archive cannot be written; 74: the data cannot be read.
    import time

    from smetabot import maintenance

    try:
        _, data = _config_and_data(config_file, data_dir)
        target = out or Path(f"smetabot-backup-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
        path, size = maintenance.backup(data, target)
    except errors.SmetaBotError as exc:
        fail(exc)
    typer.echo(f"Backup written: {path} ({_human_size(size)}). Keep the secret key apart: "
               "the sessions open only with it.")


@app.command()
def restore(
    file: Path = typer.Argument(..., help="A backup written by `smetabot backup`."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file (its "
                                               "security.secret_key must open the sessions)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
) -> None:
    """Put a backup back into a stopped data dir, after checking its database and sessions."""
    # What it replaces is moved aside into before-restore-<time>/, not deleted.
    from smetabot import maintenance

    try:
        cfg, data = _config_and_data(config_file, data_dir)
        if not file.is_file():
            typer.echo(f"Error: no such file: {file}", err=True)
            raise typer.Exit(errors.EXIT_USAGE)
        key = cfg["security.secret_key"]
        if not key and (data / "sandbox.key").is_file():
            key = (data / "sandbox.key").read_text().strip()  # a sandbox's data dir
        if not key:
            raise errors.ConfigError(problem=(
                f"security.secret_key is not set in {config_mod.config_path(config_file)}: "
                "restore needs the key that sealed the backup's sessions"))
        restored = maintenance.restore(file, data, key)
    except errors.SmetaBotError as exc:
        fail(exc)
    summary = (f"Restored {file} into {data}: {restored.contractors} contractor(s), "
               f"{restored.channels} channel(s), {restored.sessions} session(s) checked with "
               "the secret key.")
    if restored.previous:
        summary += f" What was there before is in {restored.previous}."
    if restored.pending:
        summary += (f" {len(restored.pending)} database migration(s) will be applied when "
                    "serve starts.")
    typer.echo(summary + " Next: smetabot serve")


@app.command("install-service")
def install_service(
    user: str = typer.Option("smetabot", "--user", help="The system user serve runs as "
                             "(created if missing)."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file "
                                               "(default: ./config.toml)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory (default: "
                                            "storage.data_dir of the config)."),
    root: Path = typer.Option(Path("/"), "--root", help="Install under this root (packaging): "
                              "writes the unit only, creates no user."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the unit and what would be "
                                 "done; change nothing."),
) -> None:
    """Install the systemd unit that runs `smetabot serve` as a dedicated, sandboxed user."""
    from smetabot import service

    try:
        path = config_mod.config_path(config_file).absolute()
        if not path.is_file():
            raise errors.ConfigError(problem=f"no config at {path}: run `smetabot init` first "
                                             "(or pass --config)")
        _, data = _config_and_data(path, data_dir)
        plan = service.Plan(user=user, binary=service.this_binary(), config=path,
                            data_dir=data.absolute(), root=root)
        if dry_run:
            typer.echo(plan.unit_text(), nl=False)
            for step in plan.steps():
                typer.echo(f"# would: {step}")
            return
        for step in plan.install():
            typer.echo(step)
    except errors.SmetaBotError as exc:
        fail(exc)


@app.command()
def worker(
    queue: str | None = typer.Option(None, "--queue", help="The Redis queue, e.g. "
                                     "redis://host:6379/0 (default: [render] queue of the "
                                     "config, or SMETABOT_RENDER_QUEUE)."),
    workers: int = typer.Option(0, "--workers", min=0, help="Render processes "
                                "(default: [render] workers; 0 there = one per core)."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file; only its "
                                            "[render] part is read."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where documents are cached "
                                         "(default: a temporary folder)."),
) -> None:
    """Run render workers for a serve on another machine, through a Redis queue."""
    from smetabot.render import pipeline, remote

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        cfg = config_mod.load(config_mod.config_path(config_file))
        url = queue or cfg["render.queue"]
        if not url.startswith(("redis://", "rediss://", "unix://")):
            typer.echo("Error: a worker needs a Redis queue: --queue redis://host:6379/0 "
                       "(or [render] queue, or SMETABOT_RENDER_QUEUE)", err=True)
            raise typer.Exit(errors.EXIT_USAGE)
        settings = pipeline.RenderSettings.from_config(cfg.section("render"))
        count = workers or pipeline.default_workers(cfg["render.workers"])
        if data_dir is None:
            with tempfile.TemporaryDirectory(prefix="smetabot-worker-") as scratch:
                remote.run_worker(url, count, settings, Path(scratch) / "documents")
        else:
            remote.run_worker(url, count, settings, data_dir / "documents")
        typer.echo("smetabot worker: stopped.")
    except errors.SmetaBotError as exc:
        fail(exc)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"smetabot {__version__}")


# The operator's commands on contractors and plans (smetabot/cli_operator.py).
app.command("trace")(cli_analytics.trace)
app.command("stats")(cli_analytics.stats)
app.add_typer(cli_operator.contractors_cli, name="contractors")
app.add_typer(cli_operator.plan_cli, name="plan")

from smetabot import selftest  # the Telegram walk, registered here (issue 20)

app.command("selftest")(selftest.command)


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
