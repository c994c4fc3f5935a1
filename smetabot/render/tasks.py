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

#: Queues at these URLs are Redis (imported only then); anything else is the embedded SQLite file.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
BLOB_REF = "blob:"  # a document that travels through Redis: ``blob:<sha256><suffix>``
BLOB_TTL = 6 * 3600  # seconds a document stays in Redis after the main machine last used it
WORKER_KEY = "smetabot:worker:"  # heartbeat keys of listening workers, ``…<host>:<pid>``

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
    render_cells: TaskWrapper
    render_view: TaskWrapper


def create_huey(path: Path, name: str = "smetabot") -> SqliteHuey:
    """A queue on the SQLite file ``path`` with the pipeline's tasks registered on it."""
    huey = SqliteHuey(name, filename=str(path), results=True, utc=True, timeout=30)

    def register(function: Callable[..., dict]) -> TaskWrapper:
        return huey.task(context=True, name=function.__name__)(_wrapped(huey, function))

    huey.smetabot_tasks = Tasks(register(convert_office), register(inspect_pdf),
                                register(render_page), register(render_cells),
                                register(render_view))
    return huey


def is_redis(queue: str) -> bool:
    """Whether the ``[render] queue`` setting names a Redis server."""
    return queue.startswith(REDIS_SCHEMES)


def create_redis_huey(url: str, name: str = "smetabot") -> Any:
    """A queue on the Redis server at ``url`` with the pipeline's tasks registered on it.

    Documents and results travel through Redis itself (see :class:`BlobStore`): render
    workers on other machines share no filesystem with the main one."""
    try:
        import redis  # only for a Redis queue
    except ImportError:
        raise errors.StartupError(problem="a Redis render queue needs the redis package "
                                          "(pip install 'smetabot[redis]')") from None
    from huey import PriorityRedisHuey

    pool = redis.ConnectionPool.from_url(url, socket_timeout=30, socket_connect_timeout=10,
                                         health_check_interval=30)
    huey = PriorityRedisHuey(name, connection_pool=pool, results=True, utc=True)

    def register(function: Callable[..., dict]) -> TaskWrapper:
        return huey.task(context=True, name=function.__name__)(_wrapped(huey, function))

    huey.smetabot_tasks = Tasks(register(convert_office), register(inspect_pdf),
                                register(render_page), register(render_cells),
                                register(render_view))
    huey.smetabot_blobs = BlobStore(huey.storage.conn)
    return huey


class BlobStore:
    """Documents in Redis, content-addressed and expiring, for workers on other machines.

    The main machine :meth:`put`s a file once per use (a publication's PDF: once, whatever its
    page count); a worker :meth:`fetch`es it once into its own cache and reuses it for every
    page. Each key expires :data:`BLOB_TTL` seconds after its last :meth:`put`."""

    def __init__(self, conn: Any, cache: Path | None = None, keep: int = 8) -> None:
        self.conn = conn
        self.cache = cache
        self.keep = keep

    def put(self, path: Path) -> str:
        """Store the file at ``path`` (or refresh its expiry); returns its reference."""
        import hashlib

        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        key = f"smetabot:blob:{digest}"
        if not self.conn.expire(key, BLOB_TTL):
            self.conn.set(key, data, ex=BLOB_TTL)
        return f"{BLOB_REF}{digest}{path.suffix.lower()}"

    def fetch(self, ref: str) -> Path:
        """The local copy of the document ``ref`` names, downloaded once."""
        import tempfile

        name = ref[len(BLOB_REF):]
        digest = name.split(".", 1)[0]
        if not (len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise errors.ServiceError(f"not a document reference: {ref[:80]!r}")
        cache = self.cache or Path(tempfile.gettempdir()) / f"smetabot-worker-{os.getuid()}"
        cache.mkdir(parents=True, exist_ok=True)
        target = cache / name
        if target.exists():
            return target
        data = self.conn.get(f"smetabot:blob:{digest}")
        if data is None:
            raise errors.ServiceError(f"document {digest[:12]} expired from the queue")
        _write_atomically(target, data)
        old = sorted((p for p in cache.iterdir() if not p.name.endswith(".part")),
                     key=lambda p: p.stat().st_mtime)
        for stale in old[:-self.keep]:
            if stale != target:
                stale.unlink(missing_ok=True)
        return target


def blob_store(huey: Any) -> BlobStore | None:
    """The queue's document store if documents travel through it (a Redis queue)."""
    return getattr(huey, "smetabot_blobs", None)


def tasks_of(huey: SqliteHuey) -> Tasks:
    """The pipeline's tasks registered on ``huey`` by :func:`create_huey`."""
    return huey.smetabot_tasks


def started_key(task_id: str) -> str:
    """The key under which a running task records its worker's pid and start time."""
    return f"started:{task_id}"


#: In a worker of a Redis queue: hard CPU seconds per task (``smetabot worker`` sets it).
cpu_limit: float = 0.0


def _wrapped(huey: SqliteHuey, function: Callable[..., dict]) -> Callable[..., dict]:
    def run(*args: Any, task: Any = None, **kwargs: Any) -> dict:
        global _blobs
        _blobs = blob_store(huey)
        if task is not None:
            huey.put(started_key(task.id), (os.getpid(), time.time(), _HOST, function.__name__))
        try:
            with _cpu_limited(cpu_limit if _blobs is not None else 0):
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


_HOST = __import__("socket").gethostname()
_blobs: BlobStore | None = None  # set while a task of a Redis queue runs


class _cpu_limited:
    """Past ``seconds`` of CPU the kernel kills this worker (SIGXCPU, then SIGKILL): a hard
    limit even inside C code, for workers no main machine can kill."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        if self.seconds > 0:
            self.saved = resource.getrlimit(resource.RLIMIT_CPU)
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft = int(used.ru_utime + used.ru_stime + self.seconds) + 1
            hard = self.saved[1]
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))

    def __exit__(self, *exc: object) -> None:
        if self.seconds > 0:
            resource.setrlimit(resource.RLIMIT_CPU, self.saved)


def _local(ref: str) -> str:
    """A task's input file on this machine: a document from Redis is fetched (once)."""
    if ref.startswith(BLOB_REF) and _blobs is not None:
        return str(_blobs.fetch(ref))
    return ref


def _shipping(ref: str) -> bool:
    """Whether outputs go back as bytes in the result (the input came through Redis)."""
    return ref.startswith(BLOB_REF) and _blobs is not None


def land(value: dict) -> dict:
    """On the main machine: write the files a remote task sent back (``files``) where the main
    machine asked for them."""
    for item in value.pop("files", ()):
        target = Path(item["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, item["data"])
    return value


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
    if _shipping(src):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="smetabot-office-") as local:
            pdf = office.convert_to_pdf(Path(_local(src)), Path(local), soffice=soffice or None,
                                        timeout=timeout, sniffed=Sniffed(kind, encrypted),
                                        paper=paper)
            target = str(Path(workdir) / pdf.name)
            return {"pdf": target, "files": [{"path": target, "data": pdf.read_bytes()}]}
    pdf = office.convert_to_pdf(Path(src), Path(workdir), soffice=soffice or None,
                                timeout=timeout, sniffed=Sniffed(kind, encrypted),
                                paper=paper)
    return {"pdf": str(pdf)}


def inspect_pdf(src: str, workdir: str, memory_mb: int, sheets: bool = False) -> dict:
    """Validate a PDF; returns the path to render from, its page count and, for a converted
    spreadsheet (``sheets``), each sheet's name with its first and last page."""
    from smetabot.render.pdf import prepare_pdf, sheet_pages

    _limit_memory(memory_mb)
    if _shipping(src):
        import tempfile

        local = Path(_local(src))
        with tempfile.TemporaryDirectory(prefix="smetabot-inspect-") as scratch:
            path, count = prepare_pdf(local, Path(scratch))
            found = {"pdf": src, "pages": count,
                     "sheets": sheet_pages(_document(str(path))) if sheets else []}
            if path != local:  # repaired: the main machine keeps the sound copy
                target = str(Path(workdir) / path.name)
                found.update(pdf=target, files=[{"path": target, "data": path.read_bytes()}])
            return found
    path, count = prepare_pdf(Path(src), Path(workdir))
    return {"pdf": str(path), "pages": count,
            "sheets": sheet_pages(_document(str(path))) if sheets else []}


def render_page(pdf: str, number: int, out: str, dpi: float, max_pixels: int,
                watermark: str, png_level: int, memory_mb: int,
                min_dpi: float | None = None) -> dict:
    """Render one page at ``dpi`` (or lower, down to ``min_dpi``, as its content allows) with
    the watermark burned in, as a PNG at ``out``."""
    from smetabot.render.pdf import render_page as rasterise
    from smetabot.render.png import encode_page
    from smetabot.render.watermark import apply_watermark

    _limit_memory(memory_mb)
    page = rasterise(_document(_local(pdf)), number, dpi, max_pixels, min_dpi)
    image = apply_watermark(page.image, watermark, page.dpi)
    data = encode_page(image, page.dpi, png_level)
    result = {"page": number, "path": out, "bytes": len(data), "dpi": page.dpi,
              "scaled": page.scaled, "width": image.width, "height": image.height,
              "worker": os.getpid(), "host": _HOST}
    if _shipping(pdf):
        result["files"] = [{"path": out, "data": data}]
    else:
        _write_atomically(Path(out), data)
    return result


def render_cells(pdf: str, numbers: list[int], outdir: str, width: int, height: int,
                 memory_mb: int) -> dict:
    """Thumbnails of the given pages, each within ``width``×``height``, for a contact sheet:
    lossless PNGs (``cell-NNN.png``) the sheet is composed of."""
    import io

    from smetabot.render.pdf import render_thumbnail

    _limit_memory(memory_mb)
    doc = _document(_local(pdf))
    written, files = [], []
    for number in numbers:
        image = render_thumbnail(doc, number, width, height)
        target = Path(outdir) / f"cell-{number:03d}.png"
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=1)
        if _shipping(pdf):
            files.append({"path": str(target), "data": buffer.getvalue()})
        else:
            _write_atomically(target, buffer.getvalue())
        written.append({"page": number, "path": str(target)})
    return {"cells": written, **({"files": files} if files else {})}


def render_view(pdf: str, number: int, outdir: str, side: int, max_pixels: int,
                memory_mb: int) -> dict:
    """Page ``number`` larger, ``side`` pixels on its short side, for a closer look before
    choosing: a JPEG to send as a photo (``view-NNN.jpg``), or, for a page longer than a
    photo keeps, a PNG to send as a document (``view-NNN.png``); grey when the page has no
    colour. No watermark: only the contractor sees it."""
    from smetabot.render.contact import jpeg, view_dpi, view_is_photo
    from smetabot.render.pdf import render_page as rasterise
    from smetabot.render.png import encode_page

    _limit_memory(memory_mb)
    doc = _document(_local(pdf))
    page = rasterise(doc, number, view_dpi(doc, number, side), max_pixels)
    image = page.image
    photo = view_is_photo(image.width, image.height)
    data = jpeg(image, quality=88) if photo else encode_page(image, page.dpi)
    target = str(Path(outdir) / f"view-{number:03d}.{'jpg' if photo else 'png'}")
    result = {"page": number, "path": target, "photo": photo, "width": image.width,
              "height": image.height, "bytes": len(data), "colour": image.mode != "L"}
    if _shipping(pdf):
        result["files"] = [{"path": target, "data": data}]
    else:
        _write_atomically(Path(target), data)
    return result


def _write_atomically(target: Path, data: bytes) -> None:
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)
