"""How SmetaBot answers the refusals Telegram documents, recomputed from the error table.

    python scripts/error_coverage.py [TABLE]

Reads ``tests/data/telegram_errors.tsv`` (one row per documented (method, error) pair) and
prints, per method and in total, how many pairs get a specific answer, a group answer, or
cannot arise from our calls. No imports of the app: the table is the source.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "telegram_errors.tsv"
#: rows that apply to every method (from core.telegram.org/api/errors, not a method page)
GENERIC = {"FLOOD_WAIT_%d", "5XX"}
#: methods in the table for features being built, not called by the product yet
#: (tests/test_error_table.py checks this is exactly the table minus what the product calls)
PLANNED: set[str] = set()


def read_table(path: Path = TABLE) -> list[dict[str, str]]:
    """The table's rows as dicts, comment lines (``#``) skipped."""
    with path.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def bucket(row: dict[str, str]) -> str:
    """``specific``, ``group`` or ``unreachable`` (``other`` if the table is inconsistent)."""
    if row["reachable"] == "no":
        return "unreachable"
    kind = row["answer"].split(":", 1)[0]
    return kind if kind in ("specific", "group") else "other"


def _line(label: str, counts: Counter, width: int) -> str:
    total = sum(counts.values())
    parts = [f"{label:<{width}} {total:>4} pairs"]
    for name in ("specific", "group", "unreachable", "other"):
        if counts[name] or name != "other":
            share = 100 * counts[name] / total if total else 0.0
            parts.append(f"{name} {counts[name]:>3} ({share:4.1f}%)")
    return "  ".join(parts)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else TABLE
    rows = read_table(path)
    methods = sorted({row["method"] for row in rows})
    width = max(len(m) for m in methods + ["total (method pages only)"])
    for method in methods:
        print(_line(method, Counter(bucket(r) for r in rows if r["method"] == method), width))
    print()
    pages = [r for r in rows if r["error"] not in GENERIC]
    print(_line("total (method pages only)", Counter(bucket(r) for r in pages), width))
    today = [r for r in pages if r["method"] not in PLANNED]
    print(_line("  of which called today", Counter(bucket(r) for r in today), width))
    print(_line("total (with generic rows)", Counter(bucket(r) for r in rows), width))
    reachable = [r for r in pages if r["reachable"] == "yes"]
    specific = sum(1 for r in reachable if bucket(r) == "specific")
    print(f"{len(methods)} methods ({len(set(methods) - PLANNED)} called today, "
          f"{len(PLANNED & set(methods))} planned); of the {len(reachable)} reachable page pairs, "
          f"{specific} ({100 * specific / max(1, len(reachable)):.1f}%) get a specific answer, "
          f"the rest a group answer; catch-all: {sum(1 for r in rows if bucket(r) == 'other')}")
    return 1 if any(bucket(r) == "other" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
