# PyInstaller runtime hook (build.spec): runs before smetabot in the binary.
# typer formats help and errors with rich when it can, and importing rich, pygments and
# markdown-it took most of `smetabot --help`'s start; the binary leaves them out (build.spec),
# so typer must not look for them.
import os

os.environ.setdefault("TYPER_USE_RICH", "0")
