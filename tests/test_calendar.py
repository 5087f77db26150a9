"""Financial year arithmetic and period labels."""
import datetime as dt

from rules.calendar import (FinancialYear, elapsed_months, month_number, month_title, parse_period,
                            parse_year, year_of)


def test_year_labels_and_bounds():
    year = parse_year("2025-26")
    assert (year.start, year.end, year.label) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31), "2025-26")
    assert parse_year("2025-27") is None and parse_year("2025/26") is None
    assert parse_year("1999-00") == FinancialYear(1999)


def test_months_are_numbered_from_april():
    assert [month_number(dt.date(2025, m, 1)) for m in (4, 9, 12, 1, 3)] == [1, 6, 9, 10, 12]
    assert year_of(dt.date(2026, 3, 31)) == year_of(dt.date(2025, 4, 1)) == FinancialYear(2025)
    assert FinancialYear(2023).month_end(11) == dt.date(2024, 2, 29)  # leap year February


def test_periods():
    assert (parse_period("2025-26 Q3").start, parse_period("2025-26 Q3").end) == \
        (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert (parse_period("2025-26 H2").start, parse_period("2025-26 H2").end) == \
        (dt.date(2025, 10, 1), dt.date(2026, 3, 31))
    assert parse_period("2025-26 M12").end == dt.date(2026, 3, 31)
    assert parse_period("2025-26").start == dt.date(2025, 4, 1)
    assert parse_period("2025-26 Q5") is None and parse_period("Q1") is None


def test_elapsed_months_and_title():
    year = FinancialYear(2025)
    assert elapsed_months(year, dt.date(2025, 9, 30)) == (6, None)
    assert elapsed_months(year, dt.date(2025, 9, 15)) == (5, dt.date(2025, 9, 30))
    assert elapsed_months(year, dt.date(2025, 3, 1)) == (0, None)
    assert elapsed_months(year, dt.date(2026, 5, 1)) == (12, None)
    assert month_title(dt.date(2025, 9, 30)) == "Month 6, to 30 September 2025"
