"""The plan workbook at its edges (issue 19): contributions for a year with no scheme budgets, a
scheme's register changed in the workbook, a missing or renamed sheet, money with float noise.

Each case starts from the committed sample, tests/importers/plan/plan-2026-27.xlsx, changed a little
and saved under tmp_path; the whole workbook is refused and nothing is written."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from importer_support import copy_ledger
from importers.plan import PlanImporter
from importers.rows import Refused
from importers.run import import_file
from rules.reader import read_agreement
from s75.importing import run_import

PLAN = Path(__file__).resolve().parent / "importers" / "plan" / "plan-2026-27.xlsx"


@pytest.fixture(scope="module")
def agreement(example_entries):
    agreement, errors = read_agreement(example_entries)
    assert errors == []
    return agreement


def workbook(tmp_path: Path, name: str, change) -> Path:
    """The sample plan with `change(book)` applied, saved as `name`."""
    book = openpyxl.load_workbook(PLAN)
    change(book)
    path = tmp_path / name
    book.save(path)
    return path


def refusal(agreement, entries, path: Path) -> str:
    """Why `s75 import` refuses the workbook (and beangulp's extract the same)."""
    importer = PlanImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(entries))
    assert (summary.written, summary.text) == (0, "")
    with pytest.raises(Refused) as refused:
        importer.extract(str(path), entries)
    assert str(refused.value) == summary.refused
    return summary.refused


def clear_rows(sheet) -> None:
    sheet.delete_rows(2, sheet.max_row)


# 1. Contributions for a year with no scheme budgets


def test_contributions_for_a_year_without_scheme_budgets_are_refused(agreement, example_entries, tmp_path):
    path = workbook(tmp_path, "plan-no-budgets.xlsx", lambda book: clear_rows(book["Schemes"]))
    assert refusal(agreement, example_entries, path) == (
        "plan-no-budgets.xlsx: 2026-27 has agreed contributions (Contributions) of 24,000,000.00 but no "
        "scheme budgets, in this workbook or the ledger: add the year's budgets to Schemes")


def test_only_the_year_without_budgets_is_named(agreement, example_entries, tmp_path):
    def change(book):
        book["Contributions"].append(["2027-28", "ICB", "MinimumNHS", 16000000, 16000000])

    path = workbook(tmp_path, "plan-two-years.xlsx", change)
    assert refusal(agreement, example_entries, path) == (
        "plan-two-years.xlsx: 2027-28 has agreed contributions (Contributions) of 16,000,000.00 but no "
        "scheme budgets, in this workbook or the ledger: add the year's budgets to Schemes")


def test_a_year_without_budgets_lands_nothing_through_s75_import(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = workbook(tmp_path, "plan-no-budgets.xlsx", lambda book: clear_rows(book["Schemes"]))
    assert run_import(str(ledger), [str(path)]) == 1
    out = capsys.readouterr().out
    assert "REFUSED, nothing written: plan-no-budgets.xlsx: 2026-27 has agreed contributions" in out
    assert [p.name for p in (ledger.parent / "imports").glob("*.beancount")] == ["0000-imports.beancount"]


# 2. A scheme the ledger has, described differently in the workbook

REGISTER = [
    # (field, cell, workbook says, ledger holds)
    ("name", "C3", "Reablement and rehabilitation", "Reablement at home"),
    ("scheme type", "D3", "Bed-based intermediate care services", "Home-based intermediate care services"),
    ("area of spend", "E3", "Community health", "Social care"),
    ("commissioner", "F3", "ICB", "Council"),
    ("lead provider", "H3", "Acme Homecare Ltd", "Example Borough Council Reablement Service"),
    ("funding source", "I3", "MinimumNHS", "IBCF"),
]


@pytest.mark.parametrize("field, cell, here, held", REGISTER, ids=[r[0] for r in REGISTER])
def test_a_changed_register_field_of_an_existing_scheme_is_refused(agreement, example_entries, tmp_path,
                                                                   field, cell, here, held):
    def change(book):
        book["Schemes"][cell] = here

    path = workbook(tmp_path, "plan-changed.xlsx", change)
    text = refusal(agreement, example_entries, path)
    assert text.startswith(f'plan-changed.xlsx:Schemes:3: S02\'s {field} is "{here}" here but "{held}" in the '
                           f"ledger (")
    assert "schemes.beancount:" in text
    assert text.endswith("the plan does not change the scheme register: correct the cell, or change the "
                         "scheme in the ledger first")


def test_a_changed_split_is_refused_naming_both(agreement, example_entries, tmp_path):
    def change(book):
        book["Schemes"]["G2"] = "ICB 70, Council 30"  # S01, "ICB 60, Council 40" in the ledger

    text = refusal(agreement, example_entries, workbook(tmp_path, "plan-split.xlsx", change))
    assert text.startswith('plan-split.xlsx:Schemes:2: S01\'s split is "ICB 70, Council 30" here but '
                           '"ICB 60, Council 40" in the ledger (')


def test_every_changed_field_and_row_is_named(agreement, example_entries, tmp_path):
    def change(book):
        book["Schemes"]["C3"] = "Reablement"
        book["Schemes"]["E3"] = "Acute"
        book["Schemes"]["H10"] = "Example Mental Health Trust"  # S09

    text = refusal(agreement, example_entries, workbook(tmp_path, "plan-several.xlsx", change))
    assert [part.split(" is ")[0] for part in text.split("; ")] == [
        "plan-several.xlsx:Schemes:3: S02's name", "plan-several.xlsx:Schemes:3: S02's area of spend",
        "plan-several.xlsx:Schemes:10: S09's lead provider"]


def test_the_same_register_in_other_words_is_not_a_change(agreement, example_entries, tmp_path):
    """Case of the area, commissioner and source, spacing, and the split's order and spelling are how
    the cells are typed, not a change to the scheme."""
    def change(book):
        schemes = book["Schemes"]
        schemes["C3"] = "  Reablement  at home "
        schemes["E3"] = "social care"
        schemes["F3"] = "council"
        schemes["I3"] = "ibcf"
        schemes["G2"] = "Council 40%, ICB 60"
        schemes["F2"] = "JOINT"

    path = workbook(tmp_path, "plan-same.xlsx", change)
    importer = PlanImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert (summary.refused, summary.written) == ("", 21)


def test_blank_register_cells_of_an_existing_scheme_are_not_compared(agreement, example_entries, tmp_path):
    def change(book):
        for column in "CDEFGHI":
            book["Schemes"][f"{column}3"] = None  # S02: year, ID and budget only

    path = workbook(tmp_path, "plan-blank.xlsx", change)
    importer = PlanImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert (summary.refused, summary.written) == ("", 21)


def test_a_new_schemes_later_row_that_describes_it_differently_is_refused(agreement, example_entries, tmp_path):
    def change(book):
        book["Contributions"].append(["2027-28", "ICB", "MinimumNHS", 500000, 500000])
        book["Schemes"].append(["2027-28", "S15", "Virtual wards at home", "Urgent community response",
                                "Community health", "Joint", "ICB 80, Council 20",
                                "Example Community Health NHS Trust", "MinimumNHS", "Recurrent", "New", 500000])

    text = refusal(agreement, example_entries, workbook(tmp_path, "plan-s15.xlsx", change))
    assert text == ('plan-s15.xlsx:Schemes:15: S15\'s name is "Virtual wards at home" here but "Virtual wards" '
                    "at row 13, which describes the new scheme: a scheme has one description")


# 3. A missing or renamed sheet


@pytest.mark.parametrize("change, message", [
    (lambda book: book.remove(book["Contributions"]),
     "no sheet named 'Contributions' (sheets: Schemes)"),
    (lambda book: setattr(book["Contributions"], "title", "Contribs"),
     "no sheet named 'Contributions' (sheets: Contribs, Schemes): sheet 'Contribs' has its headings: "
     "rename it 'Contributions'"),
    (lambda book: setattr(book["Schemes"], "title", "Scheme budgets"),
     "no sheet named 'Schemes' (sheets: Contributions, Scheme budgets): sheet 'Scheme budgets' has its "
     "headings: rename it 'Schemes'"),
    (lambda book: [setattr(book["Contributions"], "title", "Sheet1"), setattr(book["Schemes"], "title", "Sheet2")],
     "no sheet named 'Contributions' or 'Schemes' (sheets: Sheet1, Sheet2): sheet 'Sheet1' has the "
     "headings of 'Contributions', sheet 'Sheet2' those of 'Schemes': rename them"),
], ids=["contributions-missing", "contributions-renamed", "schemes-renamed", "both-renamed"])
def test_a_missing_or_renamed_sheet_is_named_not_unknown_layout(agreement, example_entries, tmp_path, change,
                                                                message):
    path = workbook(tmp_path, "plan-sheets.xlsx", change)
    assert PlanImporter(agreement).identify(str(path))
    assert refusal(agreement, example_entries, path) == f"plan-sheets.xlsx: {message}"


def test_a_workbook_without_the_plans_headings_is_not_the_plan(agreement, tmp_path):
    def change(book):
        book["Contributions"]["E1"] = "Total"  # no "Agreed" column
        book.remove(book["Schemes"])

    assert not PlanImporter(agreement).identify(str(workbook(tmp_path, "not-a-plan.xlsx", change)))


# 4. Float noise in a money cell


def with_raw_number(path: Path, placeholder: str, raw: str) -> None:
    """Put `raw` in the workbook's XML where the number `placeholder` is: openpyxl writes a float to
    fifteen digits, Excel to seventeen, so float noise has to be put there by hand."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        parts = {info: book.read(info.filename) for info in book.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in parts.items():
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(f"<v>{placeholder}</v>".encode(), f"<v>{raw}</v>".encode())
            book.writestr(info, data)


@pytest.mark.parametrize("sheet, cell, raw, where, what, shown", [
    ("Schemes", "L4", "1499999.9999999998", "Schemes:4", "annual budget", "1,499,999.9999999998"),
    ("Contributions", "E3", "5400000.0000000009", "Contributions:3", "agreed", "5,400,000.000000001"),
    ("Schemes", "M13", "-150000.00000000003", "Schemes:13", "planned benefits", "-150,000.00000000003"),
], ids=["budget", "agreed", "new-scheme-benefits"])
def test_float_noise_in_a_money_cell_says_so(agreement, example_entries, tmp_path, sheet, cell, raw, where,
                                             what, shown):
    def change(book):
        book[sheet][cell] = 987654.125  # a placeholder, exact in binary

    path = workbook(tmp_path, "plan-noise.xlsx", change)
    with_raw_number(path, "987654.125", raw)
    assert refusal(agreement, example_entries, path) == (
        f"plan-noise.xlsx:{where}: {what} {shown} is not a whole number of pence: round the cell to 2 decimal "
        "places")


def test_three_decimal_places_typed_as_text_are_still_not_a_number(agreement, example_entries, tmp_path):
    def change(book):
        book["Schemes"]["L4"] = "1,500,000.00.5"

    text = refusal(agreement, example_entries, workbook(tmp_path, "plan-text.xlsx", change))
    assert text == "plan-text.xlsx:Schemes:4: annual budget: amount '1,500,000.00.5' is not a number"
