"""The pipeline's settings and what a render produced.

The steps themselves (check size → sniff the type → LibreOffice for Office files → validate the
PDF → pages and contact sheets in parallel on the queue) are :class:`smetabot.render.renderer.Renderer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RenderSettings:
    """Limits and knobs of the pipeline (the ``[render]`` config section)."""

    dpi: int = 300
    min_dpi: int = 200  # pages go down to it when their content allows (pdf.TEXT_EM_PX)
    max_file_mb: int = 50
    max_pages: int = 300
    max_megapixels: float = 40.0
    max_cells: int = 2_000_000
    page_timeout: float = 60.0
    office_timeout: float = 120.0
    soffice: str = ""
    png_level: int = 7
    worker_memory_mb: int = 2048
    paper: str = "A4"  # for spreadsheets that name no paper size

    @classmethod
    def from_config(cls, section: dict) -> RenderSettings:
        """Settings from the config's ``[render]`` section (unknown keys ignored)."""
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in section.items() if key in names})


@dataclass
class RenderResult:
    """What a render produced."""

    total_pages: int
    pages: list[dict] = field(default_factory=list)
    previews: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    converted: bool = False

    @property
    def bytes(self) -> int:
        """Size of everything written."""
        return sum(item["bytes"] for item in self.pages + self.previews)

    @property
    def scaled(self) -> list[dict]:
        """Pages rendered below the asked DPI to stay within the pixel budget."""
        return [page for page in self.pages if page["scaled"]]


def default_workers(configured: int = 0) -> int:
    """Worker processes: the configured number, or one per core."""
    return configured if configured > 0 else (os.cpu_count() or 1)
