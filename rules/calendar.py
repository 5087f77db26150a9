"""The public-sector financial year (1 April to 31 March) and the periods officers name in it.

A year is labelled "2025-26" (1 April 2025 to 31 March 2026). Month 1 is April, Month 12 March.
Metric and tranche periods are labelled within a year: "2025-26" (the whole year),
"2025-26 H1" / "H2" (half years), "2025-26 Q1".."Q4" (quarters), "2025-26 M01".."M12" (months).
"""
from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_PERIOD = re.compile(r"^(\d{4}-\d{2})(?: (H[12]|Q[1-4]|M(?:0[1-9]|1[0-2])))?$")


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A financial year, named by the calendar year it starts in."""

    start_year: int

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> datetime.date:
        return datetime.date(self.start_year, 4, 1)

    @property
    def end(self) -> datetime.date:
        return datetime.date(self.start_year + 1, 3, 31)

    def contains(self, date: datetime.date) -> bool:
        return self.start <= date <= self.end

    def month_end(self, month: int) -> datetime.date:
        """Last day of Month `month` (1 = April)."""
        year, cal_month = self.start_year + (month + 2) // 12, (month + 2) % 12 + 1
        return datetime.date(year, cal_month, calendar.monthrange(year, cal_month)[1])

    def month_ends(self) -> list[datetime.date]:
        return [self.month_end(m) for m in range(1, 13)]

    def next(self) -> "FinancialYear":
        return FinancialYear(self.start_year + 1)

    def previous(self) -> "FinancialYear":
        return FinancialYear(self.start_year - 1)


def parse_year(label: str) -> FinancialYear | None:
    """"2025-26" -> FinancialYear(2025); None when the label is not a year of two consecutive parts."""
    match = _YEAR.match(label or "")
    if not match:
        return None
    start = int(match.group(1))
    if int(match.group(2)) != (start + 1) % 100:
        return None
    return FinancialYear(start)


def year_of(date: datetime.date) -> FinancialYear:
    return FinancialYear(date.year if date.month >= 4 else date.year - 1)


def month_number(date: datetime.date) -> int:
    """Month of the financial year: April is 1, March is 12."""
    return (date.month - 4) % 12 + 1


def elapsed_months(year: FinancialYear, date: datetime.date) -> tuple[int, datetime.date | None]:
    """Whole months of `year` ended on or before `date`, and the date's partial month end if any."""
    if date < year.start:
        return 0, None
    if date >= year.end:
        return 12, None
    month = month_number(date)
    end = year.month_end(month)
    return (month, None) if date == end else (month - 1, end)


@dataclass(frozen=True)
class Period:
    """A named period of a financial year, e.g. "2025-26 Q1" = 1 April to 30 June 2025."""

    label: str
    year: FinancialYear
    start: datetime.date
    end: datetime.date


def parse_period(label: str) -> Period | None:
    match = _PERIOD.match(label or "")
    year = parse_year(match.group(1)) if match else None
    if year is None:
        return None
    part = match.group(2)
    if part is None:
        first, last = 1, 12
    elif part[0] == "H":
        first = 1 + 6 * (int(part[1]) - 1)
        last = first + 5
    elif part[0] == "Q":
        first = 1 + 3 * (int(part[1]) - 1)
        last = first + 2
    else:
        first = last = int(part[1:])
    start = datetime.date(year.month_end(first).year, year.month_end(first).month, 1)
    return Period(label, year, start, year.month_end(last))


def month_title(date: datetime.date) -> str:
    """"Month 6, to 30 September 2025" for 30 September 2025 (the period the figures run to)."""
    return f"Month {month_number(date)}, to {date.day} {date:%B %Y}"
