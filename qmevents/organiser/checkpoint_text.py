"""The checkpoints box of the event form, one line per checkpoint, as organisers type it:
"南门 | 出口", "上海纺织博物馆 | 澳门路150号 | 09:00-16:00". Read into what the service takes
(a name, which way people pass it, a station's address and hours), and written back the same
way when the form is opened again."""
from __future__ import annotations

import re
from dataclasses import dataclass


def checkpoint_lines(text: str | None) -> list[str]:
    """One station (or service tally) per line, in order; blank lines are skipped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# A checkpoint's line: its name, then after "|" what else is known of it, in any order: which
# way people pass it (出口 an exit, 双向 both ways; nothing: an entrance or station), its
# opening hours (09:00-16:00) and its address. "南门 | 出口"; "上海纺织博物馆 | 澳门路150号 |
# 09:00-16:00". Chinese first; the English words are understood too.
WAYS = {"入口": "in", "出口": "out", "双向": "both", "in": "in", "out": "out", "both": "both"}
WAY_WORDS = {"out": "出口", "both": "双向"}
HOURS = re.compile(r"^\d{1,2}[:：]\d{2}\s*[-–—~～至到]\s*\d{1,2}[:：]\d{2}$")


@dataclass
class CheckpointLine:
    name: str
    direction: str = "in"
    address: str = ""
    hours: str = ""


def checkpoint_parts(line: str) -> CheckpointLine:
    """What one checkpoint line says. A part that is neither a way nor hours is the address."""
    name, *rest = [part.strip() for part in line.replace("｜", "|").split("|")]
    found = CheckpointLine(name=name)
    places = []
    for part in rest:
        if part.lower() in WAYS:
            found.direction = WAYS[part.lower()]
        elif HOURS.match(part):
            found.hours = part.replace("：", ":")
        elif part:
            places.append(part)
    found.address = " ".join(places)
    return found  # "| 出口" alone has no name: the service says each checkpoint needs one


def checkpoint_line(name: str, direction: str, address: str = "", hours: str = "") -> str:
    parts = [name, address, hours, WAY_WORDS.get(direction, "")]
    return " | ".join(part for part in parts if part)
