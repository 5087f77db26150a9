"""The receipts, metrics and plan importers: golden files (beangulp style), re-import, bad input.

The sample documents under tests/importers/<kind>/ are committed files, each with its expected
output `<document>.beancount` beside it (beangulp.testing.write_expected_file). To regenerate an
expected file after a deliberate change, delete it and run:

    from beangulp import testing
    testing.write_expected_file(doc + ".beancount", *testing.run_importer(importer, doc))
"""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from beancount import loader
from beangulp import testing

from importers.metrics import MetricsImporter
from importers.plan import PlanImporter
from importers.receipts import ReceiptsImporter
from importers.rows import Refused
from importers.run import import_file
from rules.reader import read_agreement

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "importers"
LEDGER = HERE.parent / "ledger"
RECEIPTS = SAMPLES / "receipts" / "receipts-2025-q3.csv"
METRICS = SAMPLES / "metrics" / "metrics-2025-q3.xlsx"
PLAN = SAMPLES / "plan" / "plan-2026-27.xlsx"
CASES = [(ReceiptsImporter, RECEIPTS, 5), (MetricsImporter, METRICS, 4), (PlanImporter, PLAN, 21)]
IDS = ["receipts", "metrics", "plan"]


@pytest.fixture(scope="module")
def agreement(example_entries):
    agreement, errors = read_agreement(example_entries)
    assert errors == []
    return agreement


def example_text() -> str:
    """The example ledger's main file with its includes made absolute, for load_string."""
    return (LEDGER / "main.beancount").read_text().replace('include "', f'include "{LEDGER}/')


def golden(document: Path) -> Path:
    return document.with_name(document.name + ".beancount")


@pytest.mark.parametrize("cls, document, count", CASES, ids=IDS)
def test_golden_output(agreement, cls, document, count):
    importer = cls(agreement)
    assert importer.identify(str(document))
    assert importer.name.startswith("s75.")
    result = testing.run_importer(importer, str(document))
    assert len(result[3]) == count
    assert testing.compare_expected(str(golden(document)), *result) == []


@pytest.mark.parametrize("document", [RECEIPTS, METRICS, PLAN], ids=IDS)
def test_each_document_is_identified_by_its_own_importer_only(agreement, document):
    found = [cls.__name__ for cls, _, _ in CASES if cls(agreement).identify(str(document))]
    assert found == [cls.__name__ for cls, doc, _ in CASES if doc == document]


def test_ledger_with_all_golden_output_is_clean():
    text = example_text() + "".join("\n" + golden(doc).read_text() for _, doc, _ in CASES)
    entries, errors, _ = loader.load_string(text)
    assert [e.message for e in errors] == []
    agreement, problems = read_agreement(entries)
    assert problems == []
    assert {"S15", "S16"} <= {s.scheme for s in agreement.schemes}


@pytest.mark.parametrize("cls, document, count", CASES, ids=IDS)
def test_reimport_adds_nothing(agreement, cls, document, count):
    entries, errors, _ = loader.load_string(example_text() + "\n" + golden(document).read_text())
    assert errors == []
    importer = cls(agreement)
    seen = importer.existing_keys(entries)
    summary = import_file(document, [importer], seen)
    assert summary.refused == ""
    assert summary.rejected == []
    assert (summary.written, summary.already, summary.text) == (0, count, "")


def test_first_import_writes_everything(agreement, example_entries):
    for cls, document, count in CASES:
        importer = cls(agreement)
        summary = import_file(document, [importer], importer.existing_keys(example_entries))
        assert (summary.refused, summary.written, summary.already) == ("", count, 0), document.name


def test_plan_reimport_with_the_updated_agreement_adds_nothing():
    """Read against a ledger that already has the plan: the new schemes are known, so only the
    contributions and budgets are read, and they agree with the ledger's."""
    entries, errors, _ = loader.load_string(example_text() + "\n" + golden(PLAN).read_text())
    assert errors == []
    importer = PlanImporter(read_agreement(entries)[0])
    summary = import_file(PLAN, [importer], importer.existing_keys(entries))
    assert summary.refused == ""
    assert (summary.written, summary.already) == (0, 17)


# Bad input


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    return path


RECEIPT_HEADER = ["Date", "Partner", "Source", "Amount", "Reference", "Narration"]


def test_receipts_unknown_partner_is_rejected_and_the_rest_written(agreement, example_entries, tmp_path):
    path = write_csv(tmp_path / "receipts-bad-partner.csv", [
        RECEIPT_HEADER,
        ["15/12/2025", "ICB", "MinimumNHS", "1266666.67", "ICB-MIN-2025-12", ""],
        ["16/12/2025", "NHSE", "MinimumNHS", "1,000.00", "NHSE-001", "Not a partner"],
        ["08/01/2026", "Council", "IBCF", "1325000.00", "LA-IBCF-2025-Q4", ""],
        ["15/03/2025", "ICB", "MinimumNHS", "1266666.67", "ICB-MIN-2025-03", "last year's"],
    ])
    importer = ReceiptsImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert summary.refused == ""
    assert summary.written == 2
    assert [(r.number, r.reason) for r in summary.rejected] == [
        (3, 'unknown partner "NHSE" (partners: Council, ICB)'),
        (5, "no 2024-25 contribution from ICB (MinimumNHS) in the plan")]
    assert "NHSE" not in summary.text and "ICB-MIN-2025-12" in summary.text
    summary.landed = True
    assert summary.control_line().endswith("NOT all in the ledger: 2 row(s) of 1,267,666.67 set aside")
    with pytest.raises(Refused, match=r"receipts-bad-partner\.csv:3: unknown partner"):
        importer.extract(str(path), [])


def test_receipts_bad_date_is_rejected(agreement, example_entries, tmp_path):
    path = write_csv(tmp_path / "receipts-bad-date.csv", [
        RECEIPT_HEADER,
        ["31/02/2025", "ICB", "MinimumNHS", "1266666.67", "ICB-MIN-2025-12", ""],
        ["2026-01-15", "ICB", "MinimumNHS", "1266666.67", "ICB-MIN-2026-01", ""],
    ])
    importer = ReceiptsImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert summary.refused == ""
    assert summary.written == 1
    assert len(summary.rejected) == 1
    rejection = summary.rejected[0]
    assert rejection.number == 2 and "'31/02/2025' is not a date" in rejection.reason
    assert str(rejection.amount) == "1266666.67"
    assert "ICB-MIN-2025-12" not in summary.text


def test_metrics_unknown_metric_is_rejected(agreement, example_entries, tmp_path):
    path = write_csv(tmp_path / "metrics-bad.csv", [
        ["Metric", "Period", "Value", "Numerator", "Denominator", "Published"],
        ["NEA", "2025-26 Q3", "4820", "", "", "16/01/2026"],
        ["DTOC", "2025-26 Q3", "12.5", "", "", "16/01/2026"],
    ])
    importer = MetricsImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert summary.refused == ""
    assert summary.written == 1
    assert [(r.number, r.reason) for r in summary.rejected] == [
        (3, 'unknown metric "DTOC" (metrics: NEA, RES, REA)')]
    assert 'custom "s75-metric-actual" "NEA" "2025-26 Q3" 4820' in summary.text


def plan_copy(tmp_path: Path, name: str) -> tuple[Path, openpyxl.Workbook]:
    return tmp_path / name, openpyxl.load_workbook(PLAN)


def test_plan_whose_budgets_do_not_sum_to_the_contributions_is_refused(agreement, example_entries, tmp_path):
    path, book = plan_copy(tmp_path, "plan-2026-27-unbalanced.xlsx")
    book["Schemes"]["L2"] = 5600001  # S01's annual budget, one pound more
    book.save(path)
    importer = PlanImporter(agreement)
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert summary.refused == ("plan-2026-27-unbalanced.xlsx: 2026-27 scheme budgets (Schemes) total "
                               "24,000,001.00 but agreed contributions (Contributions) total 24,000,000.00; "
                               "they must be equal (difference 1.00)")
    assert (summary.written, summary.text) == (0, "")
    with pytest.raises(Refused, match="24,000,001.00"):
        importer.extract(str(path), [])


def test_plan_missing_the_schemes_sheet_is_refused(agreement, example_entries, tmp_path):
    path, book = plan_copy(tmp_path, "plan-2026-27-no-schemes.xlsx")
    del book["Schemes"]
    book.save(path)
    importer = PlanImporter(agreement)
    assert importer.identify(str(path))  # still the plan, so that the refusal says what is wrong
    summary = import_file(path, [importer], importer.existing_keys(example_entries))
    assert summary.refused == "plan-2026-27-no-schemes.xlsx: no sheet named 'Schemes' (sheets: Contributions)"
    assert (summary.written, summary.text) == (0, "")
    with pytest.raises(Refused, match="no sheet named 'Schemes'"):
        importer.extract(str(path), [])


def test_plan_bad_row_refuses_the_whole_workbook_naming_sheet_and_row(agreement, tmp_path):
    path, book = plan_copy(tmp_path, "plan-2026-27-bad-row.xlsx")
    book["Contributions"]["B3"] = "NHSE"  # an unknown partner
    book["Schemes"]["E14"] = "Housing"  # S16's area of spend
    book.save(path)
    with pytest.raises(Refused) as refused:
        list(PlanImporter(agreement).read(str(path)))
    assert str(refused.value) == (
        'plan-2026-27-bad-row.xlsx:Contributions:3: unknown partner "NHSE" (partners: Council, ICB); '
        'plan-2026-27-bad-row.xlsx:Schemes:14: area of spend "Housing" should be one of Social care, '
        "Community health, Acute, Mental health, Primary care, Other")
