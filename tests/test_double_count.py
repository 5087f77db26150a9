"""Every penny once: `s75 check` (the validate plugin, so bean-check and Fava too) reports one
identity (system, ref) recorded twice at every one of its lines, a `ref:` without its `system:`, and a
generated entry pasted into a ledger file; `s75 check` warns of an import file the ledger leaves out."""
from __future__ import annotations

import shutil
import textwrap

import pytest
from beancount import loader
from beancount.core import data
from beancount.parser import printer

from conftest import EXAMPLE, ROOT, WORKED, line_of
from rules.entries import TAG
from s75.cli import main

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
GENERATED = "__s75_generated__"  # the mark of an entry the rules made: no parsed key can start with "__"

SPEND = """\
{date} * "Acme Homecare Ltd" "S02 Reablement packages"{marker}
  system: "{system}"
  ref: "{ref}"
  Expenses:Scheme:S02  {amount} GBP
  Assets:Pool:Cash
"""


def spend(ref="GL-100234", system="council", amount="48211.40", date="2025-05-02", marker="") -> str:
    return SPEND.format(ref=ref, system=system, amount=amount, date=date, marker=marker)


def write_pool(tmp_path, main_extra: str, imports: dict[str, str]):
    """The worked example with `main_extra` appended and an imports/ folder it includes."""
    (tmp_path / "imports").mkdir()
    for name, text in imports.items():
        (tmp_path / "imports" / name).write_text(text)
    main_text = WORKED.read_text() + "\n" + main_extra + '\ninclude "imports/*.beancount"\n'
    (tmp_path / "main.beancount").write_text(main_text)
    return main_text


def located(errors) -> list[tuple[str, int, str]]:
    return sorted((e.source["filename"], e.source["lineno"], e.message) for e in errors)


def test_the_same_system_and_ref_twice_is_an_error_at_both_lines(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    imported = "; written by s75 import\n" + spend(amount="48211.40", date="2025-10-03")
    main_text = write_pool(tmp_path, spend(marker=" ; typed"), {"2025-10-03.beancount": imported})
    _, errors, _ = loader.load_file(str(tmp_path / "main.beancount"))
    typed_line = line_of(main_text, "; typed")
    assert located(errors) == [
        (str(tmp_path / "imports" / "2025-10-03.beancount"), 2,
         f"system council, ref GL-100234 is also at main.beancount:{typed_line}: counted twice"),
        (str(tmp_path / "main.beancount"), typed_line,
         "system council, ref GL-100234 is also at imports/2025-10-03.beancount:2: counted twice"),
    ]


def test_three_copies_each_name_the_other_two():
    text = WORKED.read_text() + "".join(spend(marker=f" ; copy{i}", amount=f"{i}.00") for i in range(3))
    _, errors, _ = loader.load_string(text)
    lines = [line_of(text, f"; copy{i}") for i in range(3)]
    found = sorted((e.source["lineno"], e.message) for e in errors)
    assert [lineno for lineno, _ in found] == lines
    for (lineno, message), others in zip(found, ([1, 2], [0, 2], [0, 1])):
        assert message == (f"system council, ref GL-100234 is also at <string>:{lines[others[0]]}, "
                           f"<string>:{lines[others[1]]}: counted 3 times")


def test_one_ref_in_two_systems_and_a_receipt_are_different_transactions():
    receipt = textwrap.dedent("""\
        2025-05-15 * "NHS Example ICB" "Contribution"
          system: "receipts"
          ref: "GL-100234"
          Assets:Pool:Cash  100.00 GBP
          Income:Contribution:ICB:MinimumNHS
        """)
    text = WORKED.read_text() + spend(system="council") + spend(system="icb") + receipt
    _, errors, _ = loader.load_string(text)
    assert errors == []


def test_a_ref_without_its_system_is_an_error_at_its_line():
    text = WORKED.read_text() + spend(marker=" ; bare").replace('  system: "council"\n', "")
    _, errors, _ = loader.load_string(text)
    assert [(e.source["lineno"], e.message) for e in errors] == [
        (line_of(text, "; bare"), 'ref "GL-100234" has no system: add `system:` before it, the finance '
                                  'system it came from (e.g. council, icb, receipts)')]


def _tranche_ledger():
    from test_tranches import ledger_text
    return ledger_text(9800, target="ICB")  # the unreleased money is owed back to the ICB


def _pasted(text: str, pick) -> tuple[str, data.Transaction]:
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    entry = next(e for e in entries if isinstance(e, data.Transaction) and TAG in e.tags and pick(e))
    return text + "\n" + printer.format_entry(entry), entry


@pytest.mark.parametrize("source, pick", [
    (lambda: THREE.read_text(), lambda e: "risk share: ICB" in e.narration),
    (_tranche_ledger, lambda e: any(p.account == "Liabilities:Partner:ICB" for p in e.postings)),
], ids=["settlement", "tranche redirected to a partner"])
def test_a_generated_entry_pasted_into_a_ledger_file_is_an_error_at_its_line(source, pick):
    text, entry = _pasted(source(), pick)
    assert GENERATED not in text  # the printer leaves the marker out, so the copy cannot carry it
    pasted_line = len(text.splitlines()) - len(printer.format_entry(entry).splitlines()) + 1
    assert text.splitlines()[pasted_line - 1].startswith(str(entry.date))
    _, errors, _ = loader.load_string(text)
    assert [(e.source["lineno"], e.message) for e in errors] == [
        (pasted_line, "this entry is tagged #s75-generated but is written in the ledger: the rules make it "
                      "at load, so this copy counts it twice; delete it")]


@pytest.mark.parametrize("text", [lambda: THREE.read_text(), _tranche_ledger], ids=["settlement", "tranches"])
def test_every_generated_entry_carries_the_marker(text):
    entries, errors, _ = loader.load_string(text())
    assert errors == []
    generated = [e for e in entries if "rule" in e.meta]
    assert {type(e) for e in generated} >= {data.Transaction, data.Open}
    assert all(e.meta.get(GENERATED) is True for e in generated)
    assert not any(GENERATED in e.meta for e in entries if "rule" not in e.meta)


def copy_example(tmp_path):
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger")
    return tmp_path / "ledger" / "main.beancount"


def test_check_warns_of_an_import_file_the_ledger_does_not_include(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ledger = copy_example(tmp_path)
    imports = ledger.parent / "imports"
    (imports / "2025-10-03.bean").write_text(spend(date="2025-10-03"))    # not matched by imports/*.beancount
    (imports / "old").mkdir()
    (imports / "old" / "2025-09-01.beancount").write_text("; moved aside\n")
    (imports / ".import.lock").write_text("")                             # hidden: no warning
    assert main(["check", "ledger/main.beancount"]) == 0
    captured = capsys.readouterr()
    assert "no errors" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: ledger/imports/{name} is in the imports folder but ledger/main.beancount does not include "
        "it: its entries are not counted" for name in ("2025-10-03.bean", "old/2025-09-01.beancount")]


def test_check_warns_when_main_leaves_out_the_imports_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ledger = copy_example(tmp_path)
    ledger.write_text(ledger.read_text().replace('include "imports/*.beancount"', ""))
    (ledger.parent / "imports" / "2025-10-03.beancount").write_text(spend(date="2025-10-03"))
    assert main(["check", str(ledger)]) == 0
    err = capsys.readouterr().err
    assert "ledger/imports/0000-imports.beancount is in the imports folder" in err
    assert "ledger/imports/2025-10-03.beancount is in the imports folder" in err


def test_check_of_the_example_names_no_import_file(capsys):
    assert main(["check", str(EXAMPLE)]) == 0
    assert "imports folder" not in capsys.readouterr().err
