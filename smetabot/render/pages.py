"""Page selections such as ``1,3,5-7``."""

from __future__ import annotations

import re

from smetabot.errors import BadPageSelection

_PART = re.compile(r"^\s*(\d+)\s*(?:[-–—]\s*(\d+)\s*)?$")


class PageSyntaxError(ValueError):
    """The selection text is not a list of pages and ranges."""


def parse_pages(text: str | None, total: int) -> list[int]:
    """Turn ``"1,3,5-7"`` into sorted, unique 1-based page numbers; ``None``/"" means all pages."""
    if text is None or not text.strip() or text.strip().lower() in {"all", "все"}:
        return list(range(1, total + 1))
    chosen: set[int] = set()
    missing: list[str] = []
    for part in re.split(r"[,;\s]+(?=\d)", text.strip()):
        match = _PART.match(part)
        if not match:
            raise PageSyntaxError(f"not a page or a range: {part!r} (expected e.g. 1,3,5-7)")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first == 0 or first > last:
            raise PageSyntaxError(f"not a page or a range: {part!r} (expected e.g. 1,3,5-7)")
        if last > total:
            missing.append(part.strip())
        chosen.update(range(first, min(last, total) + 1))
    if missing:
        raise BadPageSelection(pages=", ".join(missing), total=total)
    return sorted(chosen)
