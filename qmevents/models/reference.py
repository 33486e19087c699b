from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# The 16 districts of Shanghai, in the city's usual order: (Chinese name, English name).
SHANGHAI_DISTRICTS: list[tuple[str, str]] = [
    ("黄浦区", "Huangpu"), ("徐汇区", "Xuhui"), ("长宁区", "Changning"), ("静安区", "Jing'an"),
    ("普陀区", "Putuo"), ("虹口区", "Hongkou"), ("杨浦区", "Yangpu"), ("闵行区", "Minhang"),
    ("宝山区", "Baoshan"), ("嘉定区", "Jiading"), ("浦东新区", "Pudong"), ("金山区", "Jinshan"),
    ("松江区", "Songjiang"), ("青浦区", "Qingpu"), ("奉贤区", "Fengxian"), ("崇明区", "Chongming"),
]


class District(db.Model):
    """Reference data: seeded by the first migration (and by `ensure_districts` for tests)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)
    name_en: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)

    def label(self, locale: str) -> str:
        return self.name if str(locale).startswith("zh") else self.name_en

    def __repr__(self) -> str:
        return f"<District {self.name}>"


def district_rows() -> list[dict]:
    return [
        {"id": i, "name": zh, "name_en": en, "position": i}
        for i, (zh, en) in enumerate(SHANGHAI_DISTRICTS, start=1)
    ]


def ensure_districts() -> None:
    """Insert any missing district (idempotent)."""
    existing = set(db.session.scalars(db.select(District.name)))
    for row in district_rows():
        if row["name"] not in existing:
            db.session.add(District(**row))
    db.session.commit()
