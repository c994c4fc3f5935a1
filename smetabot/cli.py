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
from typing import Optional

import typer

from smetabot import __version__, config as config_mod, errors

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


@app.command()
def render(
    file: Path = typer.Argument(..., help="PDF, DOCX, DOC, XLSX, XLS, ODT, ODS or RTF file."),
    pages: Optional[str] = typer.Option(None, "--pages", help="Pages to render, e.g. 1,3,5-7."),
    watermark: str = typer.Option("", "--watermark", help="Text tiled across every page."),
    dpi: Optional[int] = typer.Option(None, "--dpi", min=36, max=1200,
                                      help="Resolution of the PNGs (default 300)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder "
                                       "(default: <file name>-pages)."),
    previews: bool = typer.Option(False, "--previews", help="Also write ~320 px JPEG thumbnails."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Config file "
                                               "(default: ./config.toml if present)."),
) -> None:
    """Render a document to watermarked PNG pages, offline."""
    from smetabot.render import jobs, pipeline
    from smetabot.render.pages import PageSyntaxError
    from smetabot.render.tasks import create_huey

    _quiet_logs()
    try:
        cfg = config_mod.load(config_mod.config_path(config_file))
        settings = pipeline.RenderSettings.from_config(cfg.section("render"))
        if not file.is_file():
            typer.echo(f"Error: no such file: {file}", err=True)
            raise typer.Exit(errors.EXIT_USAGE)
        out_dir = out or Path(f"{file.stem}-pages")
        workers = pipeline.default_workers(cfg["render.workers"])
        workdir = Path(tempfile.mkdtemp(prefix="smetabot-render-"))
        try:
            huey = create_huey(workdir / "queue.db")
            with jobs.embedded_consumer(huey, workers) as consumer:
                runner = jobs.JobRunner(huey, consumer)
                result = pipeline.render(runner, file, out_dir, workdir, settings, pages=pages,
                                         watermark=watermark, dpi=dpi, previews=previews,
                                         workers=workers)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except PageSyntaxError as exc:
        typer.echo(f"Error: --pages: {exc}", err=True)
        raise typer.Exit(errors.EXIT_USAGE) from None
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


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"smetabot {__version__}")


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
