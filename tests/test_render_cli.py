"""`smetabot render`'s exit codes: what an operator's script sees for each kind of mistake."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymupdf
import pytest
from typer.testing import CliRunner

from smetabot import errors
from smetabot.cli import app

EX_CANTCREAT = 73


@pytest.fixture(scope="module")
def twelve_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-page PDF, made here."""
    path = tmp_path_factory.mktemp("doc") / "twelve.pdf"
    doc = pymupdf.open()
    for number in range(1, 13):
        doc.new_page().insert_text((72, 72), f"Page {number}")
    doc.save(path)
    doc.close()
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args,words", [
    (["--dpi", "0"], "--dpi"),
    (["--pages", "99"], "99"),
    (["--bogus"], "--bogus"),
], ids=["dpi-0", "page-99-of-12", "unknown-option"])
def test_argument_errors_exit_64(twelve_pages, tmp_path, args, words):
    code, _, err = run_cli(str(twelve_pages), *args, "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_USAGE, err
    assert words in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_page_out_of_range_says_how_many_pages_there_are(twelve_pages, tmp_path):
    code, _, err = run_cli(str(twelve_pages), "--pages", "99", "--out", str(tmp_path / "o"))
    assert code == errors.EXIT_USAGE
    assert err.strip() == "Error: --pages: Pages 99 are not in the document: it has 12 pages."


def test_out_that_is_a_file_exits_73_before_rendering(twelve_pages, tmp_path):
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    for out in (taken, taken / "sub"):
        code, _, err = run_cli(str(twelve_pages), "--dpi", "36", "--out", str(out))
        assert code == EX_CANTCREAT, err
        assert err.startswith("Error: cannot write the output:") and str(taken) in err
        assert err.count("\n") == 1
    assert taken.read_text() == "mine"


def test_out_that_cannot_be_created_exits_73_not_70(twelve_pages, tmp_path):
    # /proc takes no new folders, whoever asks (the tests may run as root, who may write
    # anywhere else).
    code, _, err = run_cli(str(twelve_pages), "--dpi", "36", "--out", "/proc/smetabot-out")
    assert code == EX_CANTCREAT, err
    assert err.startswith("Error: cannot write the output: /proc/smetabot-out")
    assert "Internal error" not in err


def test_sigterm_stops_rendering_and_removes_temp_files(corpus, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "pages"
    process = subprocess.Popen(
        [sys.executable, "-m", "smetabot", "render",
         str(corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf"), "--out", str(out)],
        env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        # Stop it once it is visibly at work: a first page written in its work folder.
        deadline = time.monotonic() + 60
        while not list(temp.glob("smetabot-render-*/out/page-*.png")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no page was rendered in 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Stopped" in err and "temporary files removed" in err
    assert "Traceback" not in err
    assert list(temp.iterdir()) == []
    assert not out.exists()
