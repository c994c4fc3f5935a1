"""Writes samples/smeta-remont-kvartiry.pdf: a made-up three-page renovation estimate.

The sample the README's main job renders; made here so its provenance is plain. Run again to
regenerate it: .venv/bin/python scripts/make_sample_estimate.py
"""

from __future__ import annotations

import importlib.resources
import random
from pathlib import Path

import pymupdf

WORKS = [
    ("Демонтаж напольного покрытия", "м²"), ("Демонтаж плитки со стен", "м²"),
    ("Вынос строительного мусора", "меш."), ("Штукатурка стен по маякам", "м²"),
    ("Шпаклёвка стен под покраску", "м²"), ("Грунтование стен", "м²"),
    ("Окраска стен в два слоя", "м²"), ("Устройство стяжки пола", "м²"),
    ("Укладка ламината", "м²"), ("Монтаж плинтуса", "м.п."),
    ("Укладка керамогранита", "м²"), ("Затирка швов", "м²"),
    ("Монтаж натяжного потолка", "м²"), ("Прокладка кабеля ВВГнг 3×2,5", "м.п."),
    ("Установка розеток и выключателей", "шт."), ("Монтаж светильников", "шт."),
    ("Разводка труб водоснабжения", "точка"), ("Установка унитаза", "шт."),
    ("Установка смесителя", "шт."), ("Монтаж межкомнатных дверей", "шт."),
]


def rub(amount: int) -> str:
    """``1234567`` → ``1 234 567 ₽`` with no-break spaces."""
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0₽"


def main() -> None:
    rng = random.Random(7)
    font = importlib.resources.files("smetabot").joinpath("assets/fonts/DejaVuSans-Bold.ttf")
    css = ("* {font-family: sans-serif; font-size: 9pt} table {width: 100%; border-collapse: "
           "collapse} td, th {border: 1px solid #444; padding: 3px} td.n {text-align: right}")
    doc = pymupdf.open()
    number = 1
    total = 0
    for sheet in range(3):
        rows = []
        for _ in range(26):
            name, unit = rng.choice(WORKS)
            qty = rng.randint(1, 60)
            price = rng.randrange(150, 4500, 50)
            total += qty * price
            rows.append(f"<tr><td>{number}</td><td>{name}</td><td>{unit}</td>"
                        f"<td class=n>{qty}</td><td class=n>{rub(price)}</td>"
                        f"<td class=n>{rub(qty * price)}</td></tr>")
            number += 1
        footer = f"<p><b>Итого по смете: {rub(total)}</b></p>" if sheet == 2 else ""
        html = ("<h2>Смета № 17/2026 на ремонт квартиры</h2>"
                "<p>Заказчик: Петров П.П. · Объект: г. Москва, ул. Примерная, д. 1, кв. 2</p>"
                f"<p>Лист {sheet + 1} из 3</p><table><tr><th>№</th><th>Наименование работ</th>"
                "<th>Ед.</th><th>Кол-во</th><th>Цена</th><th>Сумма</th></tr>"
                + "".join(rows) + "</table>" + footer)
        page = doc.new_page(width=595, height=842)
        page.insert_htmlbox(pymupdf.Rect(40, 40, 555, 800), html, css=css)
    target = Path(__file__).resolve().parents[1] / "samples/smeta-remont-kvartiry.pdf"
    doc.set_metadata({"title": "Смета на ремонт квартиры (пример)", "creator": "SmetaBot"})
    doc.save(target, garbage=4, deflate=True)
    print(f"wrote {target} ({target.stat().st_size} bytes), font {font.name}")


if __name__ == "__main__":
    main()
