"""The CLI's contract: every mistake is one line on stderr and a sysexits code (64 bad
arguments, 65 bad input, 69 unavailable, 73 cannot create, 74 backup I/O, 78 config) — never
click's 2, a box, or a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot.cli import app

cli = CliRunner()
TOKEN = "123456789:AAH" + "x" * 32
COMPLETE = ('[telegram]\nbot_token = "{token}"\napi_id = 1\n'
            'api_hash = "0123456789abcdef0123456789abcdef"\n[server]\n'
            'public_url = "https://x.example"\n[security]\n'
            'secret_key = "c21ldGFib3Qtc2FuZGJveC10ZXN0LWtleS0zMi1ieXRlcyE="\n'
            '[storage]\ndata_dir = "{data}"\n')


@pytest.fixture
def place(tmp_path: Path) -> dict[str, str]:
    """Paths the cases refer to: a regular file where a folder is expected, configs."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    bad_token = tmp_path / "bad-token.toml"
    bad_token.write_text(COMPLETE.format(token="123456789:AAH-short", data=tmp_path / "d"))
    file_data = tmp_path / "file-data.toml"
    file_data.write_text(COMPLETE.format(token=TOKEN, data=afile / "data"))
    return {"afile": str(afile), "bad_token": str(bad_token), "file_data": str(file_data),
            "tmp": str(tmp_path)}


CASES = [
    # argument mistakes: 64, one line, pointing at the command's help
    (["serve", "--bogus"], 64, "Error: No such option: --bogus"),
    (["serve", "--port", "70000"], 64, ("Error: Invalid value for '--port': Input should be "
                                       "less than or equal to 65535")),
    (["serve", "--port", "eighty"], 64, "Error: Invalid value for '--port'"),
    (["render", "{afile}", "--dpi", "0"], 64, "Error: Invalid value for '--dpi'"),
    (["frobnicate"], 64, "Error: No such command 'frobnicate'"),
    (["plan", "set"], 64, "Error: Missing argument 'contractor'"),
    (["doctor", "--timeout", "0"], 64, "Error: Invalid value for '--timeout'"),
    (["restore"], 64, "Error: Missing argument 'file'"),
    (["restore", "{tmp}/nowhere.tar.gz", "--data-dir", "{tmp}/d"], 64,
     "Error: no such file: {tmp}/nowhere.tar.gz"),
    # a data dir that cannot be written: 73 with the path, in sandbox mode as in real mode
    (["serve", "--sandbox", "--port", "0", "--data-dir", "{afile}/data"], 73,
     ("Error: Cannot write the data dir {afile}/data: Not a directory; the data dir must be a "
     "folder this user can write (--data-dir or storage.data_dir)")),
    (["serve", "--sandbox", "--port", "0", "--data-dir", "{afile}"], 73,
     "Error: Cannot write the data dir {afile}: it is a file, not a folder"),
    (["serve", "--config", "{file_data}"], 73,
     "Error: Cannot write the data dir {afile}/data: Not a directory"),
    # a malformed token: refused before anything connects, by name, without showing it
    (["serve", "--config", "{bad_token}"], 78,
     "Error: Configuration error: telegram.bot_token is not a bot token"),
    (["init", "--non-interactive", "--config", "{tmp}/new.toml", "--bot-token", "12:x",
      "--api-id", "1", "--api-hash", "0123456789abcdef0123456789abcdef",
      "--public-url", "https://x.example"], 78,
     "Error: Configuration error: telegram.bot_token is not a bot token"),
]


@pytest.mark.parametrize("args,code,words", CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_each_mistake_has_its_code_and_one_line(place, args, code, words):
    result = cli.invoke(app, [arg.format(**place) for arg in args])
    err = result.stderr
    assert result.exit_code == code, (result.stdout, err)
    assert err.startswith(words.format(**place)), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err + result.stdout and "╭" not in err
    assert "12:x" not in err and "AAH-short" not in err


def test_the_installed_command_keeps_the_codes(tmp_path):
    """The same through the console script, as a shell sees it."""
    script = Path(sys.executable).parent / "smetabot"
    assert script.exists(), "the package is installed with its console script (scripts/setup)"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)

    unknown = run("serve", "--bogus")
    assert unknown.returncode == 64
    assert unknown.stderr == ("Error: No such option: --bogus (Possible options: --host) "
                              "(see `smetabot serve --help`)\n")
    nothing = run()
    assert nothing.returncode == 64 and "Usage: smetabot" in nothing.stdout + nothing.stderr
    assert run("version").returncode == 0
