"""smetabot.render.office against real LibreOffice and the shared corpus of real documents."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pymupdf
import pytest

from smetabot.errors import (
    ConversionFailed,
    DamagedDocument,
    DocumentError,
    DocumentTooComplex,
    EmptyDocument,
    OfficeUnavailable,
    PasswordProtected,
    UnsupportedFile,
)
from smetabot.render.detect import sniff
from smetabot.render.office import convert_to_pdf, find_soffice

CORPUS = Path(
    os.environ.get("SMETABOT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)
ESTIMATES, SUITE = CORPUS / "estimates_ru", CORPUS / "office_testsuite"
CYRILLIC = re.compile("[А-Яа-яЁё]{4,}")


def check_office_file(path: Path, **limits: int) -> None:
    """The one sniffer's verdict on a file meant for LibreOffice."""
    if not sniff(path, **limits).office:
        raise UnsupportedFile("not an Office file")


@pytest.fixture(scope="module", autouse=True)
def temp_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temp dir of our own, so that "nothing new is left in it" is exact; /tmp is shared."""
    tmp_path_factory.getbasetemp()  # settle pytest's own base before moving tempfile's
    with tempfile.TemporaryDirectory(prefix="test-office-") as root:
        saved, tempfile.tempdir = tempfile.tempdir, root
        try:
            yield Path(root)
        finally:
            tempfile.tempdir = saved


@pytest.fixture(scope="module", autouse=True)
def warm_libreoffice(temp_root: Path) -> None:
    """Fail, not skip, without the corpus; build the profile template once for every test."""
    assert (SUITE / "samplefiles_libreoffice-form.odt").is_file(), f"corpus missing at {CORPUS}"
    with tempfile.TemporaryDirectory() as out:
        convert_to_pdf(SUITE / "samplefiles_libreoffice-form.odt", Path(out))


@pytest.fixture(autouse=True)
def nothing_left_behind(temp_root: Path) -> Iterator[None]:
    """No work dir, temp file, stale socket or soffice process outlives a call."""
    before, shared_before = set(os.listdir(temp_root)), set(os.listdir("/tmp"))
    yield
    assert set(os.listdir(temp_root)) == before  # the profile template, nothing else
    # soffice puts its single-instance socket in /tmp whatever TMPDIR says (its lu*.tmp files
    # follow TMPDIR into the work dir); others' live soffice processes may own some sockets.
    new = set(os.listdir("/tmp")) - shared_before
    assert [n for n in new if n.startswith("OSL_PIPE_") and _stale_socket(Path("/tmp", n))] == []
    assert _processes_with(str(temp_root)) == []


def _stale_socket(path: Path) -> bool:
    # A live soffice of someone else's listens there; one left by a killed soffice refuses.
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def _processes_with(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(args)
    return found


def _pdf_pages(path: Path) -> list[tuple[float, float, str]]:
    with pymupdf.open(path) as doc:
        return [(page.rect.width, page.rect.height, page.get_text()) for page in doc]


# --- finding LibreOffice -------------------------------------------------------------------------


def test_find_soffice_uses_path() -> None:
    assert Path(find_soffice()).is_file()


def test_configured_soffice_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(OfficeUnavailable):
        find_soffice(str(tmp_path / "no-such-soffice"))
    with pytest.raises(OfficeUnavailable):
        convert_to_pdf(
            SUITE / "samplefiles_libreoffice-form.odt", tmp_path, soffice=str(tmp_path / "nope")
        )


def test_soffice_missing_from_path_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OfficeUnavailable) as caught:
        convert_to_pdf(SUITE / "samplefiles_libreoffice-form.odt", tmp_path)
    assert "LibreOffice" in caught.value.message("ru")


# --- files that must not become a PDF ------------------------------------------------------------

BAD_FILES = [
    # (file, expected error, refused by check_office_file before LibreOffice)
    (SUITE / "calamine_pass_protected.ods", PasswordProtected, True),
    (SUITE / "poi_bug53475_pw-pass.docx", PasswordProtected, False),  # LibreOffice tries Excel's
    (SUITE / "poi_password_pw-password.xls", PasswordProtected, False),  # built-in password first
    (SUITE / "poi_truncated62886.docx", DamagedDocument, True),
    (SUITE / "poi_fuzz-crash-517626.docx", DamagedDocument, True),
    (SUITE / "poi_xlsx-corrupted.xlsx", DamagedDocument, False),
    (SUITE / "openpyxl_null_archive.xlsx", DamagedDocument, True),
    (SUITE / "openpyxl_null_file_0bytes.xlsx", EmptyDocument, True),  # LibreOffice: a blank page
    (SUITE / "poi_poc-xmlbomb.xlsx", DamagedDocument, True),
    # LibreOffice spends many minutes on it; refused for a string longer than Excel allows
    (SUITE / "poi_poc-shared-strings.xlsx", DocumentTooComplex, True),
    (CORPUS / "pdf_tricky" / "qpdf_bad1_5bytes_not-a-pdf.pdf", UnsupportedFile, True),
    (ESTIMATES / "treasury_223fz_formats_v16.2.pdf", UnsupportedFile, True),
]


@pytest.mark.parametrize(
    ("src", "error", "precheck"), BAD_FILES, ids=[f[0].name for f in BAD_FILES]
)
def test_bad_file_gets_its_error_quickly(
    src: Path, error: type[DocumentError], precheck: bool, tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        convert_to_pdf(src, tmp_path, timeout=20)
    assert time.monotonic() - started < 20
    assert list(tmp_path.iterdir()) == []
    assert caught.value.message("ru") and caught.value.message("en")
    if precheck:
        with pytest.raises(error):
            check_office_file(src)
    else:
        check_office_file(src)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    bomb = _zip(
        tmp_path / "bomb.xlsx",
        {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": bytes(50 << 20)},
    )
    with pytest.raises(DocumentTooComplex) as caught:
        check_office_file(bomb)
    assert caught.value.params["limit"] == "100:1 compression"
    estimate = ESTIMATES / "ks2_unified-form_blank.xlsx"
    with pytest.raises(DocumentTooComplex):
        check_office_file(estimate, max_unpacked_bytes=10_000)
    check_office_file(estimate)


def test_entity_declarations_are_refused_in_any_part(tmp_path: Path) -> None:
    laughs = b'<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE w [<!ENTITY a "aaaa">]><w:document/>'
    doc = _zip(
        tmp_path / "laughs.docx", {"[Content_Types].xml": b"<Types/>", "word/document.xml": laughs}
    )
    with pytest.raises(DamagedDocument):
        convert_to_pdf(doc, tmp_path / "out")


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("archive.zip", {"readme.txt": b"hello"}),
        ("slides.pptx", {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
    ],
)
def test_zip_that_is_not_a_document_we_take(
    name: str, members: dict[str, bytes], tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedFile):
        convert_to_pdf(_zip(tmp_path / name, members), tmp_path / "out")


def test_encrypted_word_97_document_is_refused_before_libreoffice(tmp_path: Path) -> None:
    data = bytearray((SUITE / "poi_ob_is_ru-ministry-syllabus.doc").read_bytes())
    # The FIB opens the WordDocument stream, at a sector boundary; a stale copy may lie around.
    fibs = [pos for pos in range(512, len(data), 512) if data[pos : pos + 2] == b"\xec\xa5"]
    for pos in fibs:
        data[pos + 11] |= 0x01  # FIB flags: fEncrypted (0x0100)
    (locked := tmp_path / "locked.doc").write_bytes(data)
    with pytest.raises(PasswordProtected):
        check_office_file(locked)


def test_truncated_ole_file_is_damaged(tmp_path: Path) -> None:
    cut = tmp_path / "cut.xls"
    cut.write_bytes((ESTIMATES / "mastersmeta_remontno-otdelochnye_prices.xls").read_bytes()[:3000])
    with pytest.raises(DamagedDocument):
        check_office_file(cut)


def test_unexpected_failure_is_conversion_failed(tmp_path: Path) -> None:
    with pytest.raises(ConversionFailed):
        convert_to_pdf(tmp_path / "missing.xlsx", tmp_path)


def test_timeout_kills_libreoffice(tmp_path: Path) -> None:
    # A 477-page price list needs several seconds; two are allowed.
    started = time.monotonic()
    with pytest.raises(DocumentTooComplex) as caught:
        convert_to_pdf(SUITE / "poi_no_drawing_patriarch_ru-pricelist.xlsx", tmp_path, timeout=2)
    assert time.monotonic() - started < 8
    assert caught.value.params["limit"] == "2 s of conversion"
    assert list(tmp_path.iterdir()) == []


def test_nothing_left_in_the_real_tmp(tmp_path: Path) -> None:
    # The other tests use a private temp dir; this one lets work dirs go where they normally do,
    # through a success and a kill.
    saved, tempfile.tempdir = tempfile.tempdir, None
    try:
        system_tmp = Path(tempfile.gettempdir())
        before = set(os.listdir(system_tmp))
        convert_to_pdf(ESTIMATES / "ks2_unified-form_blank.xlsx", tmp_path)
        with pytest.raises(DocumentTooComplex):
            convert_to_pdf(
                SUITE / "poi_no_drawing_patriarch_ru-pricelist.xlsx", tmp_path, timeout=2
            )
    finally:
        tempfile.tempdir = saved
    ours = f"smetabot-office-{os.getpid()}-"
    assert [name for name in set(os.listdir(system_tmp)) - before if name.startswith(ours)] == []
    assert _processes_with(ours) == []


# --- files that must become a PDF ----------------------------------------------------------------

GOOD_FILES = [
    (ESTIMATES / "lsr_kherson-uks_02-01-15 ES - (RIM) spaces&parens.xlsx", True),
    (ESTIMATES / "mastersmeta_remontno-otdelochnye_prices.xls", True),
    (ESTIMATES / "gge_VOR_recommendations_2025-12-11.docx", True),
    (SUITE / "poi_ob_is_ru-ministry-syllabus.doc", True),
    (SUITE / "poi_SampleSS_ooxml-strict.xlsx", False),
    (SUITE / "pydocx_sty-having-no-styles-part.docx", False),
]


@pytest.mark.parametrize(("src", "russian"), GOOD_FILES, ids=[f[0].name for f in GOOD_FILES])
def test_good_file_becomes_pdf(src: Path, russian: bool, tmp_path: Path) -> None:
    pdf = convert_to_pdf(src, tmp_path / "out")
    assert pdf == tmp_path / "out" / f"{src.stem}.pdf"
    pages = _pdf_pages(pdf)
    assert pages
    assert not russian or CYRILLIC.search("".join(text for _, _, text in pages))


def test_content_decides_over_the_claimed_kind(tmp_path: Path) -> None:
    renamed = tmp_path / "smeta.docx"  # an .xls under the wrong name
    renamed.write_bytes(
        (ESTIMATES / "shsmeta_raschet-stoimosti-k-aktu-78_may2014.xls").read_bytes()
    )
    pages = _pdf_pages(convert_to_pdf(renamed, tmp_path / "out"))
    assert "РАСЧЕТ СТОИМОСТИ ВЫПОЛНЕННЫХ РАБОТ" in pages[0][2]


def test_rtf_becomes_pdf(tmp_path: Path) -> None:
    words = "".join(f"\\'{b:02x}" for b in "Смета на ремонт квартиры".encode("cp1251"))
    rtf = tmp_path / "smeta.rtf"
    rtf.write_text(
        "{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0\\fcharset204 Arial;}}\\f0 "
        + words
        + "\\par}"
    )
    pages = _pdf_pages(convert_to_pdf(rtf, tmp_path))
    assert "Смета на ремонт квартиры" in pages[0][2]


# --- spreadsheets fitted to the page width -------------------------------------------------------


def test_every_column_of_a_wide_sheet_on_one_page(tmp_path: Path) -> None:
    # "Смета (образец)" runs to column M and has no print scaling: plain LibreOffice prints
    # "Примечание" (M) several pages after "Стены" (A). 'акт 1' is portrait by default and wide.
    pages = _pdf_pages(
        convert_to_pdf(ESTIMATES / "smeta-pro_remont_smeta_akty_6sheets.xlsx", tmp_path)
    )
    first = next(text for _, _, text in pages if "Стены" in text)
    assert "Примечание" in first and "план-факт" in first
    width, height, act = next(page for page in pages if "130 900 р." in page[2])
    assert width > height, "a wide sheet is turned to landscape"
    assert "Сантехника" in act and "130900" in act  # columns B and F of 'акт 1' row 3


def test_author_fit_and_print_areas_kept_hidden_sheets_skipped(tmp_path: Path) -> None:
    # Smeta.RU set portrait, one page wide, print areas, and hid seven of its ten sheets.
    pages = _pdf_pages(
        convert_to_pdf(ESTIMATES / "smetaru_sn2012_elektrika_aktovyi-zal_10sheets.xlsx", tmp_path)
    )
    assert all(width < height for width, height, _ in pages)
    text = "".join(text for _, _, text in pages)
    assert "Дефектный акт" in text  # the second visible sheet, its print area
    assert "ReUnionKollResurcy" not in text and "_OBSM_" not in text  # hidden RV_DATA, SourceObSm


def _ods(path: Path, sheets: dict[str, int], rows: int = 40) -> Path:
    def table(name: str, columns: int) -> str:
        cells = "".join(
            f"<table:table-cell><text:p>Колонка{c}</text:p></table:table-cell>"
            for c in range(columns)
        )
        return (
            f'<table:table table:name="{name}">'
            + f"<table:table-row>{cells}</table:table-row>" * rows
            + "</table:table>"
        )

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        + "".join(table(n, c) for n, c in sheets.items())
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def test_sheets_sharing_a_page_style_get_their_own_orientation(tmp_path: Path) -> None:
    # Both sheets use the ODS default page style; only the wide one may turn landscape.
    src = _ods(tmp_path / "two.ods", {"Широкий": 30, "Узкий": 2})
    pages = _pdf_pages(convert_to_pdf(src, tmp_path / "out"))
    wide = [page for page in pages if "Колонка29" in page[2]]
    narrow = [page for page in pages if "Колонка29" not in page[2]]
    assert len(wide) == 1 and wide[0][0] > wide[0][1] and "Колонка0" in wide[0][2]
    assert narrow and all(width < height for width, height, _ in narrow)


def test_sheets_without_a_paper_size_come_out_on_a4(tmp_path: Path) -> None:
    # OOXML without <pageSetup paperSize> means US Letter; a Russian estimate is A4.
    src = ESTIMATES / "smeta-pro_remont_smeta_akty_6sheets.xlsx"  # names no paper size
    pages = _pdf_pages(convert_to_pdf(src, tmp_path))
    for width, height, _ in pages:
        assert sorted((round(width), round(height))) == [595, 842]
    letter = _pdf_pages(convert_to_pdf(src, tmp_path / "letter", paper="letter"))
    assert sorted((round(letter[0][0]), round(letter[0][1]))) == [612, 792]


def test_a_narrow_table_fills_the_page_width(tmp_path: Path) -> None:
    src = _ods(tmp_path / "narrow.ods", {"Узкий": 3}, rows=10)
    with pymupdf.open(convert_to_pdf(src, tmp_path / "out")) as doc:
        page = doc[0]
        right = max(block[2] for block in page.get_text("blocks"))
        # At 100% three default columns end at about a third of an A4 page's width; enlarged
        # (at most 200%), their text reaches past 60% of it.
        assert right / page.rect.width > 0.6
