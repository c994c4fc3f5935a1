"""`kill -9` of a real `serve --sandbox` at a random moment of each stage of a document's way.

Stages: the document just received (it waits while the bot downloads another one the person sent
just before: the bot handles one update of a person at a time), its download, its previews, its
LibreOffice conversion, the rendering of a publication's pages, and their sending. Each run
drives its documents (or a publication) into the stage, kills serve there after a random delay
(a seeded RNG: the seed is in every failure message; CRASH_STAGES_SEED=N runs it again), starts
serve again and waits for things to settle. Then it checks what the contractor sees and what is
left behind:

- every document sent is answered: its page picker (or its previews, when another document
  followed it), or words saying the server restarted and asking for the file again; previews
  are sent once per page, never twice;
- every publication ends published exactly once (the channel holds each page once) and is
  announced once; the channel was made once;
- no progress message is left frozen ("📥 Получил…", "⏳ …", "📤 …");
- nothing of the killed run is left: once serve answers again, no process of it (its render
  workers, a soffice still converting the contractor's document) and none of its folders in the
  data dir's ``tmp/``; once settled, no ``uploads/`` folder without its row and no single-instance
  socket of a killed soffice in /tmp. Our processes are told from other people's by the data
  dir in their command line or environment.

One data dir, one contractor and one channel serve every run; a run costs a serve start.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from smetabot.render.contact import SHEET_PAGES
from tests.helpers import SAMPLES
from tests.test_crash import Box, connect

SEED = int(os.environ.get("CRASH_STAGES_SEED") or secrets.randbits(32))
CHANNEL = "Дом в Сосновке"
#: the runs, in the order made (shuffled with the seed): at least 20 kills, each stage several
STAGES = (["received"] * 4 + ["download"] * 4 + ["previews"] * 4 + ["conversion"] * 3
          + ["rendering"] * 3 + ["sending"] * 3)
#: pages published by a run killed while they render (6 of 16), or while they are sent (all
#: 16: two albums, so that sending lasts long enough to be caught)
PAGES = {"rendering": 6, "sending": 16}
#: what a settled chat may not show: a document's or publication's progress message that nobody
#: will edit any more (texts.py: publish.received, checking, previewing, queued, rendering,
#: sending)
FROZEN = ("📥 Получил", "⏳ Открываю", "⏳ Готовлю", "⏳ Публикую", "📤 Отправляю")


@dataclass
class Proc:
    pid: int
    ppid: int
    start: int  # clock ticks after boot: a pid reused later has another
    state: str
    cmdline: bytes
    environ: bytes


def processes() -> dict[int, Proc]:
    """The process table as /proc shows it now."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            cmdline = (entry / "cmdline").read_bytes()
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                environ = b""  # another user's process: not ours
        except (OSError, ValueError):
            continue  # gone meanwhile
        table[int(entry.name)] = Proc(int(entry.name), int(fields[1]), int(fields[19]),
                                      fields[0], cmdline, environ)
    return table


def descendants(table: dict[int, Proc], root: int) -> set[int]:
    """``root`` and every process below it."""
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += [p.pid for p in table.values() if p.ppid == pid and p.pid not in found]
    return found


def alive(proc: Proc, table: dict[int, Proc]) -> bool:
    """Still running: the same process (not a reused pid), and not a zombie waiting for a
    reaper that is not ours (a container's init may never reap)."""
    now = table.get(proc.pid)
    return now is not None and now.start == proc.start and now.state != "Z"


@dataclass
class Run:
    number: int
    stage: str
    name: str = ""
    delay: float = 0.0
    caught: str = ""  # the stage the database (and /proc) showed at the kill
    #: the documents the contractor sent in this run: (message id, file name)
    documents: list[tuple[int, str]] = field(default_factory=list)
    publication: int | None = None
    killed: list[Proc] = field(default_factory=list)
    #: LibreOffice processes of the killed run still converting when serve started again
    orphans: list[Proc] = field(default_factory=list)
    pipes: set[Path] = field(default_factory=set)
    took: float = 0.0

    def __str__(self) -> str:
        return (f"run {self.number} ({self.stage}, {self.name}): killed {self.delay * 1000:.0f} "
                f"ms in, caught at {self.caught!r}, {len(self.orphans)} orphans, settled in "
                f"{self.took:.1f} s")


class Stages(Box):
    """The serve subprocess, what the contractor does and sees, and what it leaves behind."""

    def __init__(self, data: Path, rng: random.Random) -> None:
        super().__init__(data)
        self.rng = rng
        self.runs: list[Run] = []
        self.user = 0
        self.starts: list[float] = []  # how long each serve start took

    def start(self, timeout: float = 60) -> None:
        began = time.monotonic()
        super().start(timeout)
        self.starts.append(time.monotonic() - began)

    def bot_says(self, user: int, words: str, after: int = 0, timeout: float = 60) -> dict:
        return self.expect(lambda: next((m for m in self.chat(user) if m["id"] > after and
                                         m["from"] == "bot" and words in (m["text"] or "")),
                                        None), f"the bot never said {words!r}", timeout)

    def context(self) -> str:
        """What a failure message needs to be reproduced and understood."""
        starts = f"{len(self.starts)} starts, {sum(self.starts) / max(len(self.starts), 1):.1f} s each"
        return (f"CRASH_STAGES_SEED={SEED}; {starts}\n" + "\n".join(map(str, self.runs)) +
                "\nchat tail: " + json.dumps([(m["id"], m["from"], (m["text"] or m["caption"]
                                                                   or "")[:70])
                                             for m in self.chat(self.user)[-15:]],
                                            ensure_ascii=False) +
                "\nserve log tail:\n" + self.output()[-2500:])

    def expect(self, predicate, what: str, timeout: float = 90, every: float = 0.05):
        try:
            return self.wait(predicate, timeout, every)
        except AssertionError:
            raise AssertionError(f"{what}: not within {timeout} s\n{self.context()}") from None

    def send_document(self, path: Path, name: str) -> int:
        """The contractor sends ``path`` as ``name``; its message id (noted in the run)."""
        message_id = self.send_file(self.user, path, name)
        self.runs[-1].documents.append((message_id, name))
        return message_id

    def query(self, sql: str, *args: object) -> list[tuple]:
        """Rows of the appliance's database, read as it is on disk (serve may be dead)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.data / 'smetabot.db'}?mode=ro",
                                                uri=True, timeout=5)) as db:
            return db.execute(sql, args).fetchall()

    # -- the process table -----------------------------------------------------------------

    def ours(self, proc: Proc) -> bool:
        """A process working in this data dir (a soffice names its profile there, a worker
        has its TMPDIR there)."""
        needle = str(self.data).encode()
        return needle in proc.cmdline or needle in proc.environ

    def serve_tree(self) -> list[Proc]:
        """serve, its workers, and every soffice working in its data dir."""
        table = processes()
        assert self.process is not None
        mine = descendants(table, self.process.pid)
        return [p for p in table.values() if p.pid in mine or self.ours(p)]

    def soffice_profiles(self) -> list[str]:
        """The profile URLs of the soffice processes converting in our data dir now."""
        prefix = b"-env:UserInstallation="
        return [arg[len(prefix):].decode() for p in processes().values() if self.ours(p)
                for arg in p.cmdline.split(b"\0") if arg.startswith(prefix)]

    def kill_now(self, run: Run) -> None:
        """kill -9 serve, noting what ran of it (and the single-instance pipes its soffice
        processes have in /tmp) to check later that none of it is left."""
        run.killed = self.serve_tree()
        for url in self.soffice_profiles():
            digest = "".join(f"{b:x}" for b in hashlib.md5(url.encode("utf-16-le")).digest())
            run.pipes.add(Path("/tmp", f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{digest}"))
        self.kill()

    # -- after a restart -------------------------------------------------------------------

    def idle(self) -> bool:
        """Nothing under way in the database: no receipt, no upload or publication at work."""
        return not self.query(
            "SELECT 1 FROM core_receipts UNION ALL "
            "SELECT 1 FROM core_uploads WHERE status IN ('received', 'previewing') "
            "OR (status = 'ready' AND shown_at IS NULL) UNION ALL "
            "SELECT 1 FROM core_publications WHERE status IN ('rendering', 'publishing') "
            "OR (status = 'published' AND announced_at IS NULL)")

    def settled_chat(self) -> list[dict]:
        """The chat once nothing is under way and it stopped changing."""
        self.expect(self.idle, "work still under way after the restart", 120)
        previous: list = []

        def still() -> list[dict] | None:
            nonlocal previous
            now = self.chat(self.user)
            same = now == previous
            previous = now
            return now if same else None

        return self.expect(still, "the chat kept changing", 30, every=0.5)

    def strays(self) -> list[str]:
        """Folders in the data dir's tmp/ that no live worker of this serve owns."""
        assert self.process is not None
        live = descendants(processes(), self.process.pid)
        return [f"tmp/{entry.name}" for entry in (self.data / "tmp").iterdir()
                if not (owner := re.match(r"smetabot-(?:office|lo-template)-(\d+)-", entry.name))
                or int(owner[1]) not in live]

    def leftovers(self, run: Run) -> list[str]:
        """What the killed run left on disk or in the process table."""
        table = processes()
        assert self.process is not None
        live = descendants(table, self.process.pid)
        found = [f"process {p.pid} of the killed run still runs: {p.cmdline[:120]!r}"
                 for p in run.killed if alive(p, table)]
        found += [f"process {p.pid} works in our data dir outside serve: {p.cmdline[:120]!r}"
                  for p in table.values() if self.ours(p) and p.pid not in live
                  and p.state != "Z" and p.pid != os.getpid()]
        found += self.strays()
        known = {row[0] for row in self.query("SELECT id FROM core_uploads")}
        found += [f"uploads/{folder.name} (no upload row)"
                  for folder in (self.data / "uploads").iterdir() if folder.name not in known]
        found += [f"{pipe} (a killed soffice's pipe)" for pipe in run.pipes if pipe.exists()]
        return found


def big_pdf(path: Path) -> Path:
    """A 3-page PDF of about 30 MB (noise does not compress): its download takes a while."""
    rng = random.Random(SEED)
    doc = pymupdf.open()
    for _ in range(3):
        page = doc.new_page()
        noise = Image.frombytes("RGB", (1800, 1800), rng.randbytes(1800 * 1800 * 3))
        buffer = io.BytesIO()
        noise.save(buffer, "PNG", compress_level=1)
        page.insert_image(page.rect, stream=buffer.getvalue())
    doc.save(path)
    return path


@pytest.fixture
def stages(tmp_path):
    box = Stages(tmp_path / "data", random.Random(SEED))
    box.start()
    yield box
    box.stop()


def test_kill_9_at_a_random_moment_of_each_stage(stages, tmp_path, corpus):
    box, rng = stages, stages.rng
    box.user = box.call("/sandbox/api/users", {"first_name": "Пётр", "language_code": "ru"})[1][
        "user_id"]
    connect(box, box.user)
    box.say(box.user, "🆕 Новый канал")
    box.bot_says(box.user, "Как назвать канал")
    box.say(box.user, CHANNEL)
    box.bot_says(box.user, "Пропустить")
    box.say(box.user, "Пропустить")
    box.bot_says(box.user, "готов", timeout=60)
    [channel] = box.call("/sandbox/api/channels")[1]
    big = big_pdf(tmp_path / "big.pdf")
    files = {"received": SAMPLES / "smeta-remont-kvartiry.pdf", "download": big,
             "previews": SAMPLES / "smeta-kottedzh.pdf",
             # 10 sheets, 119 pages, 8 s or more in LibreOffice: its soffice outlives the kill
             # and the restart, unless the new serve stops it
             "conversion": corpus / "estimates_ru/smetaru_sn2012_elektrika_aktovyi-zal_10sheets.xlsx",
             "rendering": SAMPLES / "smeta-kottedzh.pdf",
             "sending": SAMPLES / "smeta-kottedzh.pdf"}
    order = list(STAGES)
    rng.shuffle(order)
    published_pages = 0
    for number, stage in enumerate(order, 1):
        run = Run(number, stage)
        box.runs.append(run)
        source = files[stage]
        run.name = f"r{number:02d}-{source.name}"
        started = time.monotonic()
        if stage in ("rendering", "sending"):
            published_pages += PAGES[stage]
            catch_publication(box, run, source)
        else:
            catch_document(box, run, source, big)
        table = processes()
        run.orphans = [p for p in run.killed
                       if alive(p, table) and b"-env:UserInstallation=" in p.cmdline]
        box.start()
        # Before any new conversion: no process of the killed run (a soffice still converting
        # the contractor's document is stopped), none of its work folders.
        table = processes()
        running = [p.cmdline[:100] for p in run.killed if alive(p, table)]
        assert running == [], f"still running after the restart: {running}\n{box.context()}"
        folders = box.strays()
        assert folders == [], f"tmp/ after the restart: {folders}\n{box.context()}"
        for index, (_, name) in enumerate(run.documents):
            last = index == len(run.documents) - 1
            box.expect(lambda n=name, r=run, last=last: answered(box.chat(box.user), r, n, last),
                       f"{name} was not answered", 120)
        chat = box.settled_chat()
        run.took = time.monotonic() - started
        check_answered(box, run, chat)
        stale = frozen(chat)
        assert stale == [], f"progress messages left frozen: {stale}\n{box.context()}"
        left = box.leftovers(run)
        assert left == [], f"the killed run left: {left}\n{box.context()}"
        posts = [p for p in box.call(f"/sandbox/api/channels/{channel['id']}")[1]["posts"]
                 if p["media"]]
        assert len(posts) == published_pages, (
            f"{len(posts)} pages in the channel, {published_pages} published\n{box.context()}")

    statuses = box.query("SELECT status, announced_at IS NOT NULL FROM core_publications")
    assert statuses == [("published", 1)] * (order.count("rendering") + order.count("sending")), \
        f"{statuses}\n{box.context()}"
    done = [m for m in box.chat(box.user) if "✅ Документ опубликован" in (m["text"] or "")]
    assert len(box.call("/sandbox/api/channels")[1]) == 1, f"channels made twice\n{box.context()}"
    assert len(done) == len(statuses), f"{len(done)} 'published' notices\n{box.context()}"
    # Each stage was caught for real at least once (the delays are random: not every run).
    caught = {run.caught for run in box.runs}
    wanted = {"received", "download", "previews", "conversion", "rendering", "sending"}
    assert wanted <= caught, f"never caught: {wanted - caught}\n{box.context()}"
    # ... and a soffice of a killed run was still converting when serve started again.
    assert any(run.orphans for run in box.runs), f"no soffice outlived a kill\n{box.context()}"
    print(box.context().partition("\nchat tail")[0])


#: how long after its stage began a run may be killed (each stage's usual length, about)
WINDOW = {"received": 0.04, "download": 0.04, "previews": 0.25, "conversion": 2.0,
          "rendering": 0.15, "sending": 0.06}


def catch_document(box: Stages, run: Run, source: Path, big: Path) -> None:
    """Send a document and kill serve during its stage (before the picker)."""
    if run.stage == "received":
        # The bot handles one update of a person at a time: a document sent while it downloads
        # another is received, and waits. (Sent alone, the bot acts on it within a millisecond.)
        box.send_document(big, f"r{run.number:02d}-first-{big.name}")
    box.send_document(source, run.name)
    if run.stage == "download":  # the bot claimed it (its receipt) and downloads
        box.expect(lambda: box.query("SELECT 1 FROM core_receipts WHERE file_name = ?",
                                     run.name), "the download never began", every=0.002)
    elif run.stage == "previews":  # opened: its pages are counted, contact sheets under way
        box.expect(lambda: box.query("SELECT 1 FROM core_uploads WHERE file_name = ? AND "
                                     "pages IS NOT NULL", run.name), "no previews", every=0.005)
    elif run.stage == "conversion":  # the document's own conversion (not the warm-up)
        box.expect(lambda: any("/smetabot-office-" in url for url in box.soffice_profiles()),
                   "LibreOffice never converted", every=0.005)
    run.delay = box.rng.uniform(0, WINDOW[run.stage])
    time.sleep(run.delay)
    soffice = bool(box.soffice_profiles())
    box.kill_now(run)
    receipt = box.query("SELECT 1 FROM core_receipts WHERE file_name = ?", run.name)
    upload = box.query("SELECT status, pages FROM core_uploads WHERE file_name = ?", run.name)
    if receipt and not upload:
        run.caught = "download"
    elif not upload:
        run.caught = "received"
    elif upload[0][0] == "ready":
        run.caught = "ready"
    elif upload[0][1] is None:
        run.caught = "conversion" if soffice else "opening"
    else:
        run.caught = "previews"


def catch_publication(box: Stages, run: Run, source: Path) -> None:
    """Take a document up to its publication and kill serve while its pages render, or while
    they are sent."""
    sent = box.send_document(source, run.name)
    box.bot_says(box.user, "Какие страницы", after=sent, timeout=120)
    count = PAGES[run.stage]
    first = box.rng.randint(1, 16 - count + 1)
    typed = box.say(box.user, f"{first}-{first + count - 1}")
    picker = box.bot_says(box.user, "Выбрано", after=typed)
    box.press(box.user, picker, "Далее ➡️")
    question = box.bot_says(box.user, "Водяной знак", after=typed)
    box.press(box.user, question, "✅ Оставить")
    choice = box.bot_says(box.user, "В какой канал", after=question["id"])
    box.press(box.user, choice, f"📢 {CHANNEL}")
    # Its row appears rendering; then publishing (or, past it already, published).
    wanted = ("rendering",) if run.stage == "rendering" else ("publishing", "published")
    row = box.expect(lambda: box.query(
        "SELECT p.id FROM core_publications p JOIN core_uploads u ON u.id = p.upload_id "
        "WHERE u.file_name = ? AND p.status IN (?, ?)", run.name, *(wanted * 2)[:2]),
        f"never {wanted[0]}", every=0.005)
    run.publication = row[0][0]
    run.delay = box.rng.uniform(0, WINDOW[run.stage])
    time.sleep(run.delay)
    box.kill_now(run)
    [(status,)] = box.query("SELECT status FROM core_publications WHERE id = ?",
                            run.publication)
    run.caught = {"rendering": "rendering", "publishing": "sending"}.get(status, status)


def answered(chat: list[dict], run: Run, name: str, last: bool) -> bool:
    """Whether the document ``name`` has its answer in ``chat``: the publication's notice; or
    words asking for it again; or its page picker (the last document of a run); or, for one
    followed by another, its previews and "📄 «X»: N стр." (the picker is the newer one's)."""
    mine = [m for m in chat if m["id"] > run.documents[0][0] and m["from"] == "bot"]
    if run.publication is not None:
        return any("✅ Документ опубликован" in (m["text"] or "") for m in mine)
    return any(asks_again(m, name) or f"Какие страницы «{name}»" in (m["text"] or "") or
               (not last and (m["text"] or "").startswith(f"📄 «{name}»:")) for m in mine)


def check_answered(box: Stages, run: Run, chat: list[dict]) -> None:
    """Each document of the run has its answer, once; its contact sheets came once."""
    mine = [m for m in chat if m["id"] > run.documents[0][0] and m["from"] == "bot"]
    for message_id, name in run.documents:
        assert any(m["id"] == message_id for m in chat), \
            f"{name}: the document itself is gone from the chat\n{box.context()}"
        if run.publication is not None:
            done = [m for m in mine if "✅ Документ опубликован" in (m["text"] or "")]
            assert len(done) == 1, f"{len(done)} 'published' notices\n{box.context()}"
            continue
        pickers = [m for m in mine if f"Какие страницы «{name}»" in (m["text"] or "")]
        assert len(pickers) <= 1, f"{name}: {len(pickers)} page pickers\n{box.context()}"
    if run.publication is None:  # each upload's contact sheets once (none for a file asked
        # again): one sheet per 20 pages, each naming its pages
        sheets = sum(-(-(count or 0) // SHEET_PAGES) for _, name in run.documents
                     for (count,) in box.query(
                         "SELECT pages FROM core_uploads WHERE file_name = ?", name))
        sent = [m["caption"] for m in mine if m["media"] and m["media"]["kind"] == "photo"]
        assert len(sent) == len(set(sent)) == sheets, \
            f"{len(sent)} contact sheets, {sheets} expected: {sent}\n{box.context()}"


def asks_again(message: dict, name: str) -> bool:
    """The bot's words that the server restarted while it received ``name``: send it again."""
    return message["from"] == "bot" and f"«{name}»" in (message["text"] or "") and \
        "ещё раз" in message["text"]


def frozen(chat: list[dict]) -> list[str]:
    """Progress messages nobody will edit any more. One exception: a "📥 Получил «X»…" sent
    just before the kill, before the bot could note it (sending, then noting, always leaves
    that moment), is followed by words saying X was not kept and must be sent again."""
    found = []
    for index, message in enumerate(chat):
        text = message["text"] or ""
        if message["from"] != "bot" or not text.startswith(FROZEN):
            continue
        name = re.match(r"📥 Получил «(.*?)»", text)
        if name and any(asks_again(later, name[1]) for later in chat[index + 1:]):
            continue
        found.append(text)
    return found
