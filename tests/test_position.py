"""The pool-position model against figures worked out by hand."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from conftest import load_text
from rules.position import PositionError, build_position
from reports.position_json import position_to_json

SEPT_30 = datetime.date(2025, 9, 30)


def test_worked_example_year_end_matches_domain_table(worked_entries):
    # DOMAIN.md: budget, outturn and variance per scheme; at 31 March the outturn is the actual.
    position = position_to_json(build_position(worked_entries, datetime.date(2026, 3, 31)))
    table = {s["id"]: (s["annual_budget"], s["forecast_outturn"], s["forecast_variance"])
             for s in position["schemes"]}
    assert table == {
        "S01": ("6000000.00", "6500000.00", "500000.00"),
        "S02": ("4000000.00", "4400000.00", "400000.00"),
        "S03": ("2000000.00", "1900000.00", "-100000.00"),
        "S04": ("7500000.00", "7600000.00", "100000.00"),
        "S05": ("500000.00", "0.00", "-500000.00"),
    }
    assert {s["forecast_basis"] for s in position["schemes"]} == {"actual"}
    totals = position["totals"]["schemes"]
    assert (totals["annual_budget"], totals["forecast_outturn"], totals["forecast_variance"]) == \
        ("20000000.00", "20400000.00", "400000.00")
    partners = {p["partner"]: (p["agreed"], p["share"], p["host"]) for p in position["partners"]}
    assert partners == {"Council": ("8000000.00", "40.00", True), "ICB": ("12000000.00", "60.00", False)}


def test_worked_example_mid_year_uses_run_rate_without_forecasts(worked_entries):
    # At Month 6 only S01 has spent (3,200,000.00): run-rate = 3,200,000 / 6 x 12 = 6,400,000.00.
    position = build_position(worked_entries, SEPT_30)
    s01 = next(s for s in position.schemes if s.scheme.scheme == "S01")
    assert (s01.forecast_basis, s01.forecast_outturn, s01.budget_to_date) == \
        ("run-rate", D("6400000.00"), D("3000000.00"))
    s02 = next(s for s in position.schemes if s.scheme.scheme == "S02")
    assert (s02.forecast_basis, s02.forecast_outturn) == ("budget", D("4000000.00"))


def by_id(position):
    return {s.scheme.scheme: s for s in position.schemes}


def test_example_pool_month_6_schemes(example_entries):
    schemes = by_id(build_position(example_entries, SEPT_30))
    # S02 Reablement (Council): 2,900,000.00 even; to date 6/12 = 1,450,000.00. Spend by month in
    # ledger/2025-26/spend-*: 235,000 + 242,000 + 248,000 + 251,000 + 246,000 + 258,000 = 1,480,000.00.
    s02 = schemes["S02"]
    assert (s02.annual_budget, s02.budget_to_date, s02.actual_to_date, s02.variance_to_date) == \
        (D("2900000.00"), D("1450000.00"), D("1480000.00"), D("30000.00"))
    assert (s02.forecast_outturn, s02.forecast_variance, s02.forecast_basis) == \
        (D("3020000.00"), D("120000.00"), "forecast")
    # S06 DFG, seasonal profile: 120,000 + 150,000 + 180,000 + 190,000 + 200,000 + 200,000 = 1,040,000.00;
    # spend 98,000 + 161,000 + 175,000 + 188,000 + 204,000 + 196,000 = 1,022,000.00.
    s06 = schemes["S06"]
    assert (s06.budget_to_date, s06.actual_to_date, s06.variance_to_date) == \
        (D("1040000.00"), D("1022000.00"), D("-18000.00"))
    # S08 over two sub-accounts: 192,000 + 198,000 + 205,000 + 210,000 + 221,000 + 229,000 = 1,255,000.00
    # against 4 x 180,000 + 190,000 + 200,000 = 1,110,000.00.
    s08 = schemes["S08"]
    assert (s08.budget_to_date, s08.actual_to_date, s08.variance_to_date) == \
        (D("1110000.00"), D("1255000.00"), D("145000.00"))
    # S10 has no forecast: run-rate 76,000 + 77,000 + 78,000 + 76,000 + 77,000 + 78,000 = 462,000.00 x 2.
    s10 = schemes["S10"]
    assert (s10.forecast_basis, s10.forecast_outturn, s10.forecast_variance) == \
        ("run-rate", D("924000.00"), D("24000.00"))
    # The P4P tranche (carried in S04) earned 220 x 1,490.00 = 327,800.00 of 447,000.00 at H1; the
    # 119,200.00 not earned moves from S04's budget to S05's after September (budget to date unchanged).
    s04, s05 = schemes["S04"], schemes["S05"]
    assert (s04.annual_budget, s04.budget_to_date, s04.forecast_variance) == \
        (D("3480800.00"), D("1800000.00"), D("359200.00"))
    assert (s05.annual_budget, s05.actual_to_date, s05.forecast_outturn, s05.forecast_variance) == \
        (D("719200.00"), D("0.00"), D("0.00"), D("-719200.00"))


def test_example_pool_month_6_partners(example_entries):
    position = build_position(example_entries, SEPT_30)
    council, icb = position.partners
    # Council: iBCF 2 x 1,325,000 + DFG 2,150,000 + additional 500,000 = 5,300,000.00 of 8,450,000.00.
    assert (council.partner.partner, council.host) == ("Council", True)
    assert (council.minimum, council.agreed, council.received, council.outstanding) == \
        (D("7450000.00"), D("8450000.00"), D("5300000.00"), D("3150000.00"))
    # ICB: minimum 6 x 1,266,666.67 = 7,600,000.02, additional 2 x 150,000 = 300,000.00.
    assert (icb.agreed, icb.received, icb.outstanding) == \
        (D("15800000.00"), D("7900000.02"), D("7899999.98"))
    minimum = next(s for s in icb.sources if s.source == "MinimumNHS")
    assert (minimum.received, minimum.outstanding) == (D("7600000.02"), D("7599999.98"))
    totals = position.partner_totals
    assert (totals["agreed"], totals["received"]) == (D("24250000.00"), D("13200000.02"))


def test_example_pool_totals_are_sums_of_rows(example_entries):
    position = build_position(example_entries, SEPT_30)
    assert position.scheme_totals["annual_budget"] == D("24250000.00")
    assert position.scheme_totals["actual_to_date"] == sum(s.actual_to_date for s in position.schemes)
    assert position.scheme_totals["forecast_variance"] == D("254000.00")


def test_partial_month_budget_to_date_is_pro_rata_by_day(worked_entries):
    # S02 4,000,000.00 even: Month 1 = 333,333.33; on 15 April 15/30 of it = 166,666.67 (rounded at the edge).
    s02 = by_id(build_position(worked_entries, datetime.date(2025, 4, 15)))["S02"]
    assert s02.budget_to_date == D("166666.67")


def test_date_outside_the_pools_years(worked_entries):
    with pytest.raises(PositionError, match="2027-28, which is not one of the pool's years \\(2025-26\\)"):
        build_position(worked_entries, datetime.date(2027, 5, 1))


def test_later_budget_and_forecast_replace_earlier(worked_entries):
    extra, errors, _ = load_text("""
        2025-10-01 custom "s75-forecast" "2025-26" "S02" 4100000.00 GBP
        2025-11-01 custom "s75-forecast" "2025-26" "S02" 4250000.00 GBP
    """)
    entries = sorted(list(worked_entries) + extra, key=lambda e: e.date)
    assert by_id(build_position(entries, datetime.date(2025, 10, 31)))["S02"].forecast_outturn == D("4100000.00")
    assert by_id(build_position(entries, datetime.date(2025, 11, 30)))["S02"].forecast_variance == D("250000.00")


def test_positions_from_the_years_books_equal_direct_ones(example_entries):
    # The Fava page sums the year's books once per load; every month-end position must be the same.
    from reports.position_json import position_to_json
    from rules.calendar import FinancialYear
    from rules.position import year_books
    from rules.reader import read_agreement
    agreement, _ = read_agreement(example_entries)
    books = year_books(example_entries, FinancialYear(2025), agreement)
    for month in (1, 6, 9, 12):
        date = FinancialYear(2025).month_end(month)
        assert position_to_json(build_position(example_entries, date, agreement, books)) == \
            position_to_json(build_position(example_entries, date, agreement)), date
