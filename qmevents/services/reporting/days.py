"""The arrival curve of an event's report cut into Shanghai days: a tour on two mornings is two
charts (and two stretches of an export's sheet), not one with a night of zeros in the middle.
The report page (organiser/reports.py) and the exports (services/exports/data.py) both cut it
here, the same way."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...timeutil import to_local
from .reports import ArrivalBin


@dataclass
class ArrivalDay:
    """One Shanghai day of the arrival curve, without its empty quarters before and after."""

    day: date
    bins: list[ArrivalBin]

    @property
    def people(self) -> int:
        return sum(b.people for b in self.bins)


def arrival_days(bins: list[ArrivalBin]) -> list[ArrivalDay]:
    """Each day from the first quarter anyone came in or left to the last; loops over the
    quarters only."""
    days: dict[date, list[ArrivalBin]] = {}
    for b in bins:
        days.setdefault(to_local(b.starts_at).date(), []).append(b)
    result, before = [], 0  # people inside at the end of the quarter before
    for day, day_bins in days.items():
        # From the first quarter anyone came in or left to the last.
        moved = []
        for i, b in enumerate(day_bins):
            if b.people or b.inside != before:
                moved.append(i)
            before = b.inside
        if moved:
            result.append(ArrivalDay(day, day_bins[moved[0]:moved[-1] + 1]))
    return result
