"""The document pipeline end to end: real corpus files, a real queue with process workers."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from smetabot import errors
from smetabot.cli import app
from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.renderer import Renderer

cli = CliRunner()


@pytest.fixture
def own_temp(tmp_path, monkeypatch) -> Path:
    """A temp dir of this test's own (the render's workers fork with it): the system's is
    shared with other test runs on this machine, whose files come and go meanwhile."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def run_cli(*args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_pdf_pages_are_rendered_at_the_dpi_their_text_needs_with_watermark(runner, corpus,
                                                                           settings, tmp_path):
    src = corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf"
    work = _mkdir(tmp_path / "work")
    result = render(runner, src, tmp_path / "out", work, settings, pages="1-4,9",
                             watermark="Иванов И.И.", previews=True)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"page-00{n}.png" for n in (1, 2, 3, 4, 9)] + ["sheet-01.jpg"]
    assert result.total_pages == 90
    page = load_image(tmp_path / "out/page-009.png")
    assert page.size == (1671, 2363)  # A4 at 202 DPI: its smallest text is 10 pt
    assert round(page.info["dpi"][0]) == 202
    assert [round(item["dpi"]) for item in result.pages] == [200, 200, 202, 202, 202]
    fixed = render(runner, src, tmp_path / "fixed", _mkdir(tmp_path / "work2"),
                   replace(settings, min_dpi=300), pages="9")
    assert load_image(tmp_path / "fixed/page-009.png").size == (2481, 3508)  # A4 at 300 DPI
    assert fixed.pages[0]["dpi"] == 300
    # The contact sheet: the five pages in one grid of four across, in two rows.
    sheet = load_image(tmp_path / "out/sheet-01.jpg")
    assert sheet.format == "JPEG" and max(sheet.size) <= 2560
    assert result.previews[0]["pages"] == [1, 2, 3, 4, 9]
    assert 4 * 500 < sheet.width and sheet.height < sheet.width
    # Pages were spread over more than one worker process.
    assert len({item["worker"] for item in result.pages}) == 2


def test_watermark_is_burned_into_every_region_of_the_page(runner, corpus, settings, tmp_path):
    src = corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf"
    render(runner, src, tmp_path / "a", _mkdir(tmp_path / "wa"), settings, pages="3",
                    dpi=100)
    render(runner, src, tmp_path / "b", _mkdir(tmp_path / "wb"), settings, pages="3",
                    dpi=100, watermark="Иванов И.И.")
    plain = load_image(tmp_path / "a/page-003.png").convert("L")
    marked = load_image(tmp_path / "b/page-003.png").convert("L")
    width, height = plain.size
    for row in range(3):
        for col in range(3):
            box = (col * width // 3, row * height // 3, (col + 1) * width // 3,
                   (row + 1) * height // 3)
            assert plain.crop(box).tobytes() != marked.crop(box).tobytes(), box


def test_huge_page_is_scaled_to_the_pixel_budget(corpus, tmp_path):
    code, out, err = run_cli("render", str(corpus / "pdf_tricky/pdfjs_issue14497_A0_survey-drawing.pdf"),
                             "--out", str(tmp_path / "a0"), "--watermark", "Проект")
    assert code == 0, err
    assert "scaled down to" in out and "40 megapixels" in out
    image = load_image(tmp_path / "a0/page-001.png")
    assert image.width * image.height <= 40_000_000
    assert image.width > image.height  # the page's /Rotate 90 is honoured


def test_cli_renders_xlsx_estimate_with_summary(corpus, tmp_path, own_temp):
    src = corpus / "estimates_ru/lsr_kherson-uks_02-01-15 ES - (RIM) spaces&parens.xlsx"
    code, out, err = run_cli("render", str(src), "--pages", "1-2", "--watermark", "ООО «Ремонт»",
                             "--previews", "--out", str(tmp_path / "x"))
    assert code == 0, err
    assert out.startswith("Rendered 2 of ")
    assert re.search(r" at \d{3}(-\d{3})? DPI \(1 contact sheet\)", out), out
    assert len(list((tmp_path / "x").glob("sheet-*.jpg"))) == 1
    assert len(list((tmp_path / "x").glob("page-*.png"))) == 2
    assert os.listdir(own_temp) == []


BAD_FILES = [
    # (corpus file, error class, words the user must see)
    ("pdf_tricky/qpdf_enc-AES256-R6_userpw-view.pdf", errors.PasswordProtected, "password-protected"),
    ("pdf_tricky/pdfjs_issue6010_2_utf8-password.pdf", errors.PasswordProtected, "password-protected"),
    ("pdf_tricky/pypdf_r6-user-password_empty-owner.pdf", errors.PasswordProtected, "password"),
    ("pdf_tricky/pdfjs_bug1020226_truncated.pdf", errors.DamagedDocument, "damaged"),
    ("pdf_tricky/pdfjs_issue15590_javascript-openaction.pdf", errors.DamagedDocument, "damaged"),
    ("pdf_tricky/qpdf_bad1_5bytes_not-a-pdf.pdf", errors.UnsupportedFile, "not a document"),
    ("pdf_tricky/qpdf_empty_zero-pages.pdf", errors.EmptyDocument, "no pages"),
    ("pdf_tricky/qpdf_deep-pages_pagetree-loop.pdf", errors.DamagedDocument, "damaged"),
    ("office_testsuite/openpyxl_null_file_0bytes.xlsx", errors.EmptyDocument, "no pages"),
    ("office_testsuite/openpyxl_null_archive.xlsx", errors.DamagedDocument, "damaged"),
]


@pytest.mark.parametrize("name,error,words", BAD_FILES, ids=[Path(b[0]).name for b in BAD_FILES])
def test_bad_file_gives_one_clear_message(corpus, tmp_path, own_temp, name, error, words):
    code, _, err = run_cli("render", str(corpus / name), "--out", str(tmp_path / "o"))
    assert code == error.exit_code == errors.EXIT_DOCUMENT
    assert words in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert os.listdir(own_temp) == []


@pytest.mark.parametrize("name,pages", [
    ("pdf_tricky/qpdf_append-xref-loop.pdf", 30),          # rebuilt from its objects
    ("pdf_tricky/qpdf_encrypted-with-images_emptypw.pdf", 2),  # empty user password
    ("pdf_tricky/qpdf_enc-AES256_owner-only_noprint.pdf", 30),
    ("pdf_tricky/qpdf_damaged-stream.pdf", 1),
    ("pdf_tricky/pdfjs_xref_command_missing.pdf", 1),
    ("pdf_tricky/pdfjs_bomb_giant_content-stream-bomb.pdf", 1),
    ("pdf_tricky/samplefiles_habibi-rotated_0-90-180-270.pdf", 4),
    ("pdf_tricky/pdfjs_sizes_mixed-page-sizes.pdf", 3),
])
def test_tricky_but_readable_pdfs_render(runner, corpus, settings, tmp_path, name, pages):
    result = render(runner, corpus / name, tmp_path / "o", _mkdir(tmp_path / "w"),
                             settings, pages="1", dpi=72, watermark="x")
    assert result.total_pages == pages
    assert (tmp_path / "o/page-001.png").stat().st_size > 0


def test_page_selection_outside_document(corpus, tmp_path):
    code, _, err = run_cli("render", str(corpus / "pdf_tricky/pdfjs_sizes_mixed-page-sizes.pdf"),
                           "--pages", "2,5-6", "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_USAGE  # the argument is wrong, not the file
    assert "--pages" in err and "5-6" in err and "3 pages" in err


def test_page_selection_syntax_error_is_a_usage_error(corpus, tmp_path):
    code, _, err = run_cli("render", str(corpus / "pdf_tricky/pdfjs_sizes_mixed-page-sizes.pdf"),
                           "--pages", "first", "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_USAGE
    assert "--pages" in err and "1,3,5-7" in err


def test_limits_are_configurable_and_named(corpus, tmp_path, monkeypatch):
    src = corpus / "pdf_tricky/pdfjs_freeculture_352pages.pdf"
    code, _, err = run_cli("render", str(src), "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_DOCUMENT and "352 pages" in err and "300 pages" in err
    monkeypatch.setenv("SMETABOT_RENDER_MAX_FILE_MB", "1")
    code, _, err = run_cli("render", str(src), "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_DOCUMENT and "too large" in err and "1 MB" in err


def test_mistyped_config_key_is_named(corpus, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[render]\ndpii = 200\n")
    code, _, err = run_cli("render", str(corpus / "pdf_tricky/pdfjs_sizes_mixed-page-sizes.pdf"),
                           "--config", str(config))
    assert code == errors.EXIT_CONFIG
    assert "render.dpii" in err


def test_office_file_without_libreoffice(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice anywhere
    monkeypatch.setenv("SMETABOT_RENDER_SOFFICE", str(tmp_path / "no-soffice"))
    code, _, err = run_cli("render", str(corpus / "estimates_ru/ks2_unified-form_blank.xlsx"),
                           "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_UNAVAILABLE
    assert "LibreOffice" in err and "PDF files still work" in err
    code, _, _ = run_cli("render", str(corpus / "pdf_tricky/pdfjs_sizes_mixed-page-sizes.pdf"),
                         "--out", str(tmp_path / "o"), "--dpi", "50")
    assert code == 0


def test_stuck_worker_is_killed_and_replaced(runner, corpus, tmp_path):
    # A page that takes far longer than its limit: the worker is killed, the user hears the
    # document is too complex, and the queue goes on working with a fresh worker.
    strict = RenderSettings(page_timeout=0.01, max_megapixels=140, min_dpi=1200)
    impatient = jobs.JobRunner(runner.huey, runner.consumer, grace=0.3)
    src = corpus / "pdf_tricky/pdfjs_issue14497_A0_survey-drawing.pdf"
    with pytest.raises(errors.DocumentTooComplex):
        render(impatient, src, tmp_path / "o", _mkdir(tmp_path / "w"), strict,
                        dpi=1200)
    result = render(runner, src, tmp_path / "o2", _mkdir(tmp_path / "w2"),
                             RenderSettings(), dpi=20)
    assert result.total_pages == 1


def render(runner: jobs.JobRunner, src: Path, out: Path, work: Path, settings: RenderSettings,
           **options):
    """The CLI's path: one Renderer on the shared queue, called synchronously."""
    return Renderer(settings, runner).render_sync(src, out, work, **options)


def load_image(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_no_mupdf_noise_on_stderr(corpus, tmp_path, capfd):
    code, _, err = run_cli("render", str(corpus / "pdf_tricky/qpdf_append-xref-loop.pdf"),
                           "--pages", "1", "--dpi", "50", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert "MuPDF" not in capfd.readouterr().err
    assert os.listdir(tmp_path / "o") == ["page-001.png"]


def test_prepare_keeps_each_sheet_with_its_pages(runner, corpus, settings, tmp_path):
    import asyncio

    src = corpus / "estimates_ru/smeta-pro_remont_smeta_akty_6sheets.xlsx"
    prepared = asyncio.run(Renderer(settings, runner).prepare(src, tmp_path, owner=7))
    names = [name for name, _, _ in prepared.sheets]
    assert names[:2] == ["Смета (образец)", "акт 2"] and len(names) == 6
    # The ranges follow each other and cover the document.
    assert prepared.sheets[0][1] == 1 and prepared.sheets[-1][2] == prepared.pages
    for (_, _, last), (_, first, _) in zip(prepared.sheets, prepared.sheets[1:]):
        assert first == last + 1
    pdf = asyncio.run(Renderer(settings, runner).prepare(
        corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf", tmp_path / "p"))
    assert pdf.sheets == ()
