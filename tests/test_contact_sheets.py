"""Previews that help choosing: contact sheets of up to 20 numbered pages, one photo each, and a
page number under a sheet that shows that page larger.

The renderer's sheets are checked as pictures (what fits a Telegram photo, what is where); the
bot's side goes through the emulator as a contractor would use it, a restart included.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pymupdf
from PIL import Image, ImageChops, ImageStat

from smetabot.render.renderer import Renderer
from tests.helpers import labels, run, sandbox_app
from tests.test_publish import bot_messages, contractor_with_channel, send_file, wait_text

HINT = "Нажмите номер — покажу страницу крупнее."


def numbered_pdf(path: Path, pages: int, *, black: tuple[int, ...] = (),
                 colour: tuple[int, ...] = (), tall: tuple[int, ...] = ()) -> Path:
    """A PDF of A4 pages saying "Page N"; pages in ``black`` are filled black (a cover
    one can tell from the rest), in ``colour`` carry a red block, in ``tall`` are a long strip
    (595 × 2400 pt)."""
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page(width=595, height=2400 if number in tall else 842)
        if number in black:
            page.draw_rect(page.rect, color=(0, 0, 0), fill=(0, 0, 0))
        if number in colour:
            page.draw_rect(pymupdf.Rect(100, 300, 500, 600), color=(1, 0, 0), fill=(1, 0, 0))
        page.insert_text((72, 120), f"Page {number}", fontsize=40)
    document.save(path)
    return path


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_grey(image: Image.Image) -> bool:
    if image.mode == "L":
        return True
    red, green, blue = image.convert("RGB").split()
    return max(ImageChops.difference(red, green).getextrema()[1],
               ImageChops.difference(green, blue).getextrema()[1]) <= 8


# -- the sheets as pictures ----------------------------------------------------------------------

def test_a_107_page_document_makes_six_sheets_that_telegram_takes_as_photos(runner, corpus,
                                                                          settings, tmp_path):
    renderer = Renderer(settings, runner)
    src = corpus / "estimates_ru/gge_VOR_format_ComparativeQuantityTakeoff-1_01.pdf"
    handed: list[int] = []

    async def scenario() -> list[dict]:
        prepared = await renderer.prepare(src, tmp_path / "work")

        async def on_sheet(sheet: dict) -> None:
            handed.append(sheet["sheet"])

        return await renderer.contact_sheets(prepared.pdf, list(range(1, prepared.pages + 1)),
                                             tmp_path / "sheets", on_sheet)

    sheets = asyncio.run(scenario())
    # Eleven albums of thumbnails before; six pictures now, handed out in order.
    assert handed == [1, 2, 3, 4, 5, 6]
    assert [(s["pages"][0], s["pages"][-1]) for s in sheets] == [
        (1, 20), (21, 40), (41, 60), (61, 80), (81, 100), (101, 107)]
    for sheet in sheets:
        image = picture(Path(sheet["path"]).read_bytes())
        # A Telegram photo: ≤ 10 MB, width + height ≤ 10000, sides within 1:20
        # (core.telegram.org/bots/api#sendphoto); and no side over the 2560 px Telegram keeps.
        assert image.format == "JPEG" and sheet["bytes"] < 10 * 1024 * 1024
        assert max(image.size) <= 2560 and sum(image.size) <= 10000
        assert max(image.size) <= 20 * min(image.size)
    # A full sheet fills the photo's height: each page large enough to tell apart.
    first = picture(Path(sheets[0]["path"]).read_bytes())
    assert first.height >= 2500 and first.width >= 1200
    assert list((tmp_path / "sheets").glob("cell-*")) == []  # the parts are gone


def test_thumbnails_sit_in_page_order_four_across_each_with_its_number(runner, settings,
                                                                       tmp_path):
    renderer = Renderer(settings, runner)
    src = numbered_pdf(tmp_path / "cover.pdf", 20, black=(1, 20))

    async def scenario() -> list[dict]:
        prepared = await renderer.prepare(src, tmp_path / "work")
        return await renderer.contact_sheets(prepared.pdf, list(range(1, 21)),
                                             tmp_path / "sheets")

    [sheet] = asyncio.run(scenario())
    image = picture(Path(sheet["path"]).read_bytes())
    assert image.mode == "L"  # no colour on any page: a grey JPEG
    width, height = image.size
    cell_w, cell_h = width / 4, height / 5

    def darkness(column: int, row: int, part: str = "page") -> float:
        """Mean darkness of a cell's page area (its upper part) or its number band."""
        left, top = column * cell_w, row * cell_h
        box = (left + cell_w * 0.3, top + cell_h * 0.3, left + cell_w * 0.7,
               top + cell_h * 0.6) if part == "page" else \
            (left + cell_w * 0.3, top + cell_h * 0.86, left + cell_w * 0.7, top + cell_h * 0.97)
        crop = image.crop(tuple(round(v) for v in box))
        return 255 - ImageStat.Stat(crop).mean[0]

    # The cover (page 1) top left, page 20 bottom right: black; page 4 (top right) is not.
    assert darkness(0, 0) > 200 and darkness(3, 4) > 200
    assert darkness(3, 0) < 60 and darkness(1, 2) < 60
    # Under every page, its number: ink in the band below each thumbnail.
    for at in range(20):
        assert darkness(at % 4, at // 4, "number") > 10, at + 1


# -- in the bot ---------------------------------------------------------------------------------

def test_sheets_then_a_tapped_page_shown_larger(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, _, _ = await contractor_with_channel(app)
            src = numbered_pdf(tmp_path / "big.pdf", 45, colour=(22,), tall=(45,))
            sent = await send_file(app, ivan, src)
            [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
            sheets = [m for m in bot_messages(app, ivan, sent) if m["media"]]
            assert [m["caption"] for m in sheets] == [
                f"🗂 «big.pdf»: стр. 1–20 из 45. {HINT}",
                f"🗂 «big.pdf»: стр. 21–40 из 45. {HINT}",
                f"🗂 «big.pdf»: стр. 41–45 из 45. {HINT}"]
            assert all(m["media"]["kind"] == "photo" for m in sheets)
            # The numbers as buttons, laid out as the sheet: four across, each a short label.
            assert [[b["text"] for b in row] for row in sheets[0]["buttons"]] == [
                [str(n) for n in range(first, first + 4)] for first in range(1, 21, 4)]
            assert labels(sheets[2]) == ["41", "42", "43", "44", "45"]
            first_sheet = picture(emu.file_bytes(sheets[0]["media"]["file_id"]))
            assert max(first_sheet.size) <= 2560 and is_grey(first_sheet)
            assert not is_grey(picture(emu.file_bytes(sheets[1]["media"]["file_id"])))

            # 7 under the first sheet: page 7, 1280 px across, grey, as a photo.
            last = max(m["id"] for m in emu.user_chat(ivan))
            answer = await emu.user_press(ivan, sheets[0]["id"], "7")
            assert answer["text"] == "Открываю стр. 7…"
            [view] = await emu.wait_until(lambda: [m for m in bot_messages(app, ivan, last)
                                                   if m["media"]], 30)
            assert view["caption"] == "🔍 «big.pdf», стр. 7 из 45"
            assert view["media"]["kind"] == "photo"
            page = picture(emu.file_bytes(view["media"]["file_id"]))
            assert page.width == 1280 and 1800 < page.height < 1820 and is_grey(page)
            # The picker is untouched: choosing goes on where it was.
            [still] = [m for m in emu.user_chat(ivan) if m["id"] == picker["id"]]
            assert "Выбрано: ничего — 0 из 45" in still["text"] and not still["edited"]

            # A colour page stays colour; a page longer than a photo keeps comes as a
            # document, every pixel kept (a PNG, grey when the page is).
            last = max(m["id"] for m in emu.user_chat(ivan))
            await emu.user_press(ivan, sheets[1]["id"], "22")
            [colour] = await emu.wait_until(lambda: [m for m in bot_messages(app, ivan, last)
                                                     if m["media"]], 30)
            assert colour["caption"] == "🔍 «big.pdf», стр. 22 из 45"
            assert not is_grey(picture(emu.file_bytes(colour["media"]["file_id"])))
            last = colour["id"]
            await emu.user_press(ivan, sheets[2]["id"], "45")
            [strip] = await emu.wait_until(lambda: [m for m in bot_messages(app, ivan, last)
                                                    if m["media"]], 30)
            assert strip["media"]["kind"] == "document"
            assert strip["media"]["file_name"] == "big — стр. 45.png"
            long_page = picture(emu.file_bytes(strip["media"]["file_id"]))
            assert long_page.format == "PNG" and long_page.mode in ("L", "P", "1")
            assert long_page.width == 1280 and long_page.height > 2560

            # Past the picker (the watermark question), a sheet's number still shows its page.
            await emu.user_press(ivan, picker["id"], "Все")
            await emu.wait_until(lambda: "Выбрано: 1–45" in next(
                m for m in emu.user_chat(ivan) if m["id"] == picker["id"])["text"])
            await emu.user_press(ivan, picker["id"], "Далее ➡️")
            await wait_text(app, ivan, "Водяной знак", after=strip["id"])
            last = max(m["id"] for m in emu.user_chat(ivan))
            await emu.user_press(ivan, sheets[0]["id"], "7")
            [again] = await emu.wait_until(lambda: [m for m in bot_messages(app, ivan, last)
                                                    if m["media"]], 30)
            assert again["caption"] == "🔍 «big.pdf», стр. 7 из 45"

            # Once the document is gone (expired), its numbers say so and do nothing.
            upload = await app.db.fetchone("SELECT id FROM core_uploads")
            await app.publishing.discard(upload["id"])
            last = max(m["id"] for m in emu.user_chat(ivan))
            answer = await emu.user_press(ivan, sheets[0]["id"], "8")
            assert answer["text"] == "Это уже неактуально."
            assert bot_messages(app, ivan, last) == []

    run(scenario())


async def document_at_its_picker(app, path, pages: int) -> int:
    """A contractor with a channel sends a numbered PDF of ``pages`` and gets its picker;
    the contractor's id."""
    ivan, _, _ = await contractor_with_channel(app)
    sent = await send_file(app, ivan, numbered_pdf(path, pages))
    await wait_text(app, ivan, "Какие страницы", after=sent)
    return ivan


async def preview_jobs_done() -> None:
    """Every preview job that started, awaited to its end."""
    await asyncio.gather(*[task for task in asyncio.all_tasks()
                           if task.get_name().startswith("preview ")])


async def previewing_again(app) -> None:
    """The contractor's wizard as it is while previews are made (no picker yet)."""
    await app.db.execute(
        "UPDATE conversation_states SET step = 'previewing', data = json_remove(data, "
        "'$.picker_id')")


def test_a_restart_during_previews_shows_no_sheet_twice(tmp_path):
    """A stop between sending a sheet and recording it: the next start sends the sheets not
    recorded again, and Telegram refuses those it already has (their random_ids are made from
    the upload and the sheet). Which sheets a killed run really had not sent yet, and that they
    do come, is the crash test's (tests/test_crash_stages.py)."""
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = await document_at_its_picker(app, tmp_path / "big.pdf", 45)
            upload = await app.db.fetchone("SELECT id, previews_sent FROM core_uploads")
            assert upload["previews_sent"] == 45
            # As a stop leaves it after the first sheet was recorded, the two others sent.
            await app.db.execute("UPDATE core_uploads SET status = 'previewing', "
                                 "previews_sent = 20")
            await previewing_again(app)
        before = max(m["id"] for m in emu.user_chat(ivan))
        calls = len(emu.calls)
        async with sandbox_app(tmp_path, emulator=emu) as app:
            await wait_text(app, ivan, "Какие страницы", after=before)
            told = bot_messages(app, ivan, before)
            assert any("Продолжаю подготовку «big.pdf»" in (m["text"] or "") for m in told)
            # The first sheet is not sent again; the two others are tried, and refused.
            assert emu.calls[calls:].count("messages.SendMedia") == 2
            assert [m for m in told if m["media"]] == []
            sheets = [m["caption"] for m in emu.user_chat(ivan)
                      if (m["caption"] or "").startswith("🗂")]
            assert len(sheets) == len(set(sheets)) == 3

    run(scenario())


def test_one_preview_job_per_document_even_when_started_twice(tmp_path):
    """A document received as the app starts is both new and unfinished: its previews are
    started by the bot and by the start's resume. One job runs; each sheet comes once."""
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = await document_at_its_picker(app, tmp_path / "big.pdf", 45)
            await app.db.execute("UPDATE core_uploads SET status = 'previewing', "
                                 "previews_sent = 0")
            await previewing_again(app)
            before = max(m["id"] for m in emu.user_chat(ivan))
            calls = len(emu.calls)
            await asyncio.gather(app.publishing.resume(app.contractors.language_of),
                                 app.publishing.resume(app.contractors.language_of))
            await preview_jobs_done()
            await wait_text(app, ivan, "Какие страницы", after=before)
            row = await app.db.fetchone("SELECT status FROM core_uploads")
            assert row["status"] == "ready"
            # One job: each of the three sheets is sent once (two jobs: six sends), and as
            # Telegram already has them all (this test's reset), none shows twice.
            assert emu.calls[calls:].count("messages.SendMedia") == 3
            assert [m for m in bot_messages(app, ivan, before) if m["media"]] == []

    run(scenario())


def test_a_sheet_telegram_fails_to_take_at_first_still_comes_once(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, _, _ = await contractor_with_channel(app)
            # Telegram answers the sheet's first send with a 500: it is tried again.
            emu.inject_error("messages.SendMedia", 500, "INTERNAL_SERVER_ERROR")
            sent = await send_file(app, ivan, numbered_pdf(tmp_path / "four.pdf", 4))
            await wait_text(app, ivan, "Какие страницы", after=sent)
            sheets = [m["caption"].split(". Нажмите")[0] for m in bot_messages(app, ivan, sent)
                      if m["media"]]
            assert sheets == ["🗂 «four.pdf»: стр. 1–4 из 4"]
            assert emu.calls.count("messages.SendMedia") == 2  # refused once, then taken
            row = await app.db.fetchone("SELECT previews_sent FROM core_uploads")
            assert row["previews_sent"] == 4

    run(scenario())


def test_a_stop_after_the_picker_went_out_shows_no_second_picker(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = await document_at_its_picker(app, tmp_path / "four.pdf", 4)
            # As a stop leaves it between the picker's send and noting the upload shown.
            await app.db.execute("UPDATE core_uploads SET shown_at = NULL")
        before = max(m["id"] for m in emu.user_chat(ivan))
        async with sandbox_app(tmp_path, emulator=emu) as app:
            # The start's resume takes it up again: its job is awaited to its end.
            await preview_jobs_done()
            await emu.settle()
            pickers = [m for m in emu.user_chat(ivan) if "Какие страницы" in (m["text"] or "")]
            assert len(pickers) == 1 and pickers[0]["id"] <= before
            row = await app.db.fetchone("SELECT shown_at FROM core_uploads")
            assert row["shown_at"] is not None

    run(scenario())
