"""The pipeline's Huey tasks and the SQLite-backed queue they run on.

``render`` and ``serve`` use the same tasks on the same kind of queue: a :class:`SqliteHuey`
whose file sits in the data dir, consumed by process workers (forked, so they share the task
registry without pickling). :func:`tasks_of` gives the queue's tasks as Huey's own callables
(``tasks.render_page(pdf, number, ...)`` enqueues one), for :mod:`smetabot.render.renderer`. Tasks never raise across the queue: they return a dict, either
``{"ok": True, ...}`` or ``{"ok": False, "error": {...}}`` naming an error class of
:mod:`smetabot.errors`, so the caller re-raises the same user-facing error.
"""

from __future__ import annotations

import os
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import SqliteHuey
from huey.api import TaskWrapper

from smetabot import errors

# One open document per worker process: consecutive pages of a job land on the same worker
# often enough that reopening the PDF for each page would be measurable waste.
_open_doc: dict[str, Any] = {}


@dataclass(frozen=True)
class Tasks:
    """The pipeline's tasks registered on one queue; calling one enqueues it (``priority=``
    is Huey's: higher runs first) and returns its Huey ``Result``."""

    convert_office: TaskWrapper
    inspect_pdf: TaskWrapper
    render_page: TaskWrapper
    render_previews: TaskWrapper


def create_huey(path: Path, name: str = "smetabot") -> SqliteHuey:
    """A queue on the SQLite file ``path`` with the pipeline's tasks registered on it."""
    huey = SqliteHuey(name, filename=str(path), results=True, utc=True, timeout=30)

    def register(function: Callable[..., dict]) -> TaskWrapper:
        return huey.task(context=True, name=function.__name__)(_wrapped(huey, function))

    huey.smetabot_tasks = Tasks(register(convert_office), register(inspect_pdf),
                                register(render_page), register(render_previews))
    return huey


def tasks_of(huey: SqliteHuey) -> Tasks:
    """The pipeline's tasks registered on ``huey`` by :func:`create_huey`."""
    return huey.smetabot_tasks


def started_key(task_id: str) -> str:
    """The key under which a running task records its worker's pid and start time."""
    return f"started:{task_id}"


def _wrapped(huey: SqliteHuey, function: Callable[..., dict]) -> Callable[..., dict]:
    def run(*args: Any, task: Any = None, **kwargs: Any) -> dict:
        if task is not None:
            huey.put(started_key(task.id), (os.getpid(), time.time()))
        try:
            return {"ok": True, **function(*args, **kwargs)}
        except errors.SmetaBotError as exc:
            return {"ok": False, "error": _describe(exc)}
        except MemoryError:
            _open_doc.clear()
            return {"ok": False, "error": _describe(
                errors.DocumentTooComplex(limit="memory per page"))}
        except Exception as exc:  # noqa: BLE001 - a worker loop must keep running; the caller apologises
            # The caller logs it, once, with this traceback.
            return {"ok": False, "error": {**_describe(errors.ServiceError(repr(exc))),
                                           "trace": traceback.format_exc()}}

    run.__name__ = function.__name__
    return run


def _describe(exc: errors.SmetaBotError) -> dict:
    return {"class": type(exc).__name__, "detail": exc.detail, "params": exc.params}


def raise_error(error: dict) -> None:
    """Re-raise an error a task described."""
    cls = getattr(errors, error.get("class", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.SmetaBotError)):
        cls = errors.ServiceError
    exc = cls(error.get("detail"), **(error.get("params") or {}))
    exc.trace = error.get("trace")
    raise exc


def _limit_memory(megabytes: int) -> None:
    # A soft limit only, so the Office task (whose soffice child needs room) can lift it again.
    soft = megabytes * 1024 * 1024 if megabytes else resource.RLIM_INFINITY
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _document(path: str) -> Any:
    from smetabot.render.pdf import open_pdf

    doc = _open_doc.get(path)
    if doc is None:
        for old in _open_doc.values():
            old.close()
        _open_doc.clear()
        doc = _open_doc[path] = open_pdf(Path(path))
    return doc


def convert_office(src: str, workdir: str, soffice: str, timeout: float, kind: str,
                   encrypted: bool, paper: str = "A4") -> dict:
    """Convert an Office file (of the sniffed ``kind``) to PDF with LibreOffice."""
    from smetabot.render import office
    from smetabot.render.detect import Sniffed

    _limit_memory(0)
    pdf = office.convert_to_pdf(Path(src), Path(workdir), soffice=soffice or None,
                                timeout=timeout, sniffed=Sniffed(kind, encrypted),
                                paper=paper)
    return {"pdf": str(pdf)}


def inspect_pdf(src: str, workdir: str, memory_mb: int, sheets: bool = False) -> dict:
    """Validate a PDF; returns the path to render from, its page count and, for a converted
    spreadsheet (``sheets``), each sheet's name with its first and last page."""
    from smetabot.render.pdf import prepare_pdf, sheet_pages

    _limit_memory(memory_mb)
    path, count = prepare_pdf(Path(src), Path(workdir))
    return {"pdf": str(path), "pages": count,
            "sheets": sheet_pages(_document(str(path))) if sheets else []}


def render_page(pdf: str, number: int, out: str, dpi: float, max_pixels: int,
                watermark: str, png_level: int, memory_mb: int) -> dict:
    """Render one page at ``dpi`` with the watermark burned in, as a PNG at ``out``."""
    from smetabot.render.pdf import render_page as rasterise
    from smetabot.render.png import encode_page
    from smetabot.render.watermark import apply_watermark

    _limit_memory(memory_mb)
    page = rasterise(_document(pdf), number, dpi, max_pixels)
    image = apply_watermark(page.image, watermark, page.dpi)
    data = encode_page(image, page.dpi, png_level)
    _write_atomically(Path(out), data)
    return {"page": number, "path": out, "bytes": len(data), "dpi": page.dpi,
            "scaled": page.scaled, "width": image.width, "height": image.height,
            "worker": os.getpid()}


def render_previews(pdf: str, numbers: list[int], outdir: str, width: int,
                    memory_mb: int) -> dict:
    """JPEG thumbnails about ``width`` pixels wide for the given pages."""
    from smetabot.render.pdf import render_thumbnail

    _limit_memory(memory_mb)
    doc = _document(pdf)
    written = []
    for number in numbers:
        image = render_thumbnail(doc, number, width)
        target = Path(outdir) / f"preview-{number:03d}.jpg"
        image.save(target, "JPEG", quality=80, optimize=True)
        written.append({"page": number, "path": str(target), "bytes": target.stat().st_size})
    return {"previews": written}


def _write_atomically(target: Path, data: bytes) -> None:
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)
