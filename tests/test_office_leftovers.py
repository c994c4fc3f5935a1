"""What a killed serve leaves of a LibreOffice conversion is gone before the next one starts."""

from __future__ import annotations

import subprocess
import sys

from smetabot.render import office


def test_soffice_and_files_left_by_a_killed_run_are_removed(tmp_path):
    # A worker (pid long gone) was converting a contractor's document when serve was killed.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = tmp_path / f"smetabot-office-{dead}-abc"
    (left / "profile").mkdir(parents=True)
    (left / "smeta-klienta.xlsx").write_bytes(b"the contractor's figures")
    # Its soffice still runs, in a session of its own, pointing at that profile.
    soffice = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)",
         f"-env:UserInstallation={(left / 'profile').as_uri()}/"], start_new_session=True)
    try:
        office.sweep_orphans(tmp_path)
        assert soffice.wait(timeout=10) != 0  # killed
        assert not left.exists()  # the document is gone with it
    finally:
        if soffice.poll() is None:
            soffice.kill()
