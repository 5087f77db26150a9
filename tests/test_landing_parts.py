"""The check before an import lands, made a part at a time (importers.landing_check): a big import is
never held whole (a million new entries held at once took 4 GB), and the parts together refuse what
a check of the whole would refuse, at the same rows."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from beancount import loader

from importer_support import COUNCIL_HEADER, copy_ledger, imported_entries
from importers import landing, landing_check
from reports import quick_booking
from reports.ledger import load_ledger
from s75.cli import main

WHOLE = 10**9  # a part size that makes the check one part


def payment(day: int, ref: str, amount: str, scheme: str = "S02", month: str = "2025-10") -> str:
    return (f'{month}-{day:02d} * "Acme Homecare Ltd" "{scheme} payment"\n  system: "council"\n  ref: "{ref}"\n'
            f'  source: "gl.csv:{day + 1}"\n  Expenses:Scheme:{scheme}   {amount} GBP\n'
            f"  Assets:Pool:Cash   -{amount} GBP\n\n")


def payments(count: int) -> str:
    return "; Imported by s75 import.\n\n" + "".join(payment(n, f"GL-9{n:05d}", f"{n}.00") for n in range(1, count + 1))


@pytest.fixture
def ledger(tmp_path):
    return copy_ledger(tmp_path)


def check(ledger, text: str, part: int) -> list[str]:
    staged = ledger.parent / "imports" / ".pending-test.beancount"
    staged.write_text(text)
    stages = load_ledger(ledger, keep_stages=True).stages
    return landing_check.check(stages, str(staged.resolve()), part=part)


def test_a_big_import_is_booked_a_part_at_a_time_and_lands(ledger, monkeypatch):
    sizes = []
    book = quick_booking.book

    def counting(entries, options, *args, **kwargs):
        sizes.append(len(entries))
        return book(entries, options, *args, **kwargs)

    stages = load_ledger(ledger, keep_stages=True).stages
    monkeypatch.setattr(quick_booking, "book", counting)
    monkeypatch.setattr(landing_check, "part_size", lambda stages: 3)
    target = landing.land(ledger, payments(10), datetime.date(2025, 11, 3), stages)
    assert target.name == "2025-11-03.beancount"
    assert sizes and max(sizes) == 3 < 10 and sum(sizes) == 10  # every new entry booked, never more than 3 at once
    _, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    assert len(imported_entries(ledger)) == 10


def test_the_same_identity_in_two_parts_is_named_at_both_rows(ledger, monkeypatch, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the new file then named by its full path, not a "../" one
    text = payments(6) + payment(20, "GL-900002", "2.00")
    for part in (2, WHOLE):
        errors = check(ledger, text, part)
        assert "gl.csv:3: system council, ref GL-900002 is also at gl.csv:21: counted twice" in errors, errors
        assert "gl.csv:21: system council, ref GL-900002 is also at gl.csv:3: counted twice" in errors, errors


def test_an_identity_already_in_the_ledger_is_found_in_any_part(ledger):
    text = payments(6) + payment(21, "GL-100214", "5.00")  # a council ref the example ledger holds
    for part in (2, WHOLE):
        errors = check(ledger, text, part)
        assert any(e.startswith("gl.csv:22: ") and "GL-100214" in e for e in errors), (part, errors)


def test_an_account_not_open_is_named_at_its_row_in_any_part(ledger):
    text = payments(5) + payment(9, "GL-999999", "9.00", scheme="S99")
    for part in (2, WHOLE):
        errors = check(ledger, text, part)
        assert [e for e in errors if e.startswith("gl.csv:10: ")], (part, errors)


def cash_before(ledger, date: datetime.date) -> Decimal:
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    return sum((p.units.number for e in entries if hasattr(e, "postings") and e.date < date
                for p in e.postings if p.account == "Assets:Pool:Cash"), Decimal(0))


def test_a_balance_assertion_is_checked_against_every_part_together(ledger):
    """The assertion holds with all six new entries (21.00 out): parts of two each do not make it fail;
    with one entry fewer it fails, at the assertion's line, though each part alone would not show it."""
    expected = cash_before(ledger, datetime.date(2025, 11, 1)) - Decimal("21.00")
    accounts = ledger.parent / "accounts.beancount"
    accounts.write_text(accounts.read_text() + f"\n2025-11-01 balance Assets:Pool:Cash  {expected} GBP\n")
    line = len(accounts.read_text().splitlines())
    assert check(ledger, payments(6), 2) == []
    short = payments(5)
    for part in (2, WHOLE):
        errors = check(ledger, short, part)
        assert [e for e in errors if e.startswith(f"{accounts.resolve()}:{line}: ") and "Balance failed" in e], errors


def test_an_entry_in_a_locked_month_is_named_at_its_row_in_any_part(ledger, capsys):
    assert main(["lock", str(ledger), "--month", "2025-09"]) == 0
    text = payments(5) + payment(15, "GL-999998", "3.00", month="2025-09")
    for part in (2, WHOLE):
        errors = check(ledger, text, part)
        assert [e for e in errors if e.startswith("gl.csv:16: ") and "locked" in e], (part, errors)


def test_a_big_extract_imported_through_the_cli_checks_in_parts_and_agrees(ledger, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(landing_check, "part_size", lambda stages: 4)
    rows = "".join(f"02/10/2025,P07,CC4102,5400,Acme,Reablement,{1 + n % 7}.00,GL-{800000 + n}\n" for n in range(11))
    extract = tmp_path / "gl.csv"
    extract.write_text(COUNCIL_HEADER + rows)
    assert main(["import", str(extract), "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "written 11" in out and ": agrees" in out
    assert len(imported_entries(ledger)) == 11
    assert main(["check", str(ledger)]) == 0


def test_an_error_at_the_new_entries_added_up_names_their_day_and_first_row(ledger):
    """Whatever the rules find wrong with the new entries' totals is named by the day, the accounts and
    the first extract row of the entries added up (an error stood in for here: the example's rules
    find none in these)."""
    from rules.directives import S75Error

    stages = load_ledger(ledger, keep_stages=True).stages
    finish = stages.finish

    def with_a_total_error(entries, errors, options):
        entries, errors, options = finish(entries, errors, options)
        added = [e for e in entries if getattr(e, "narration", "").endswith("new entries together")]
        return entries, errors + [S75Error(e.meta, "too much on one day", e) for e in added], options

    text = payments(3) + payment(2, "GL-800002", "4.00")  # two payments on 2025-10-02
    staged = ledger.parent / "imports" / ".pending-test.beancount"
    staged.write_text(text)
    object.__setattr__(stages, "finish", with_a_total_error)
    errors = landing_check.check(stages, str(staged.resolve()), part=2)
    assert ("the 2 new entries of 2025-10-02 on Expenses:Scheme:S02, Assets:Pool:Cash together (the first "
            "gl.csv:3): too much on one day") in errors, errors
    assert ("the new entry of 2025-10-01 on Expenses:Scheme:S02, Assets:Pool:Cash (gl.csv:2): too much on one day"
            in errors), errors


BALANCE_IN_THE_NEW_FILE = '2025-10-30 balance Expenses:Scheme:S02  0.00 GBP\n'
PUSHED = "pushtag #batch\n"
ODD_ROUNDING = ('2025-10-15 * "Acme Homecare Ltd" "S02 payment"\n  system: "council"\n  ref: "GL-7{n:05d}"\n'
                '  source: "gl.csv:{n}"\n  Expenses:Scheme:S02   10.00 GBP\n  Assets:Pool:Cash   -9.996 GBP\n\n')


@pytest.mark.parametrize("text", [
    payments(6) + BALANCE_IN_THE_NEW_FILE,  # a balance assertion in the new file, which every part must meet
    "2025-04-01 open Assets:Pool:Petty GBP\n\n" + payments(6)
    + payment(29, "GL-999997", "5.00", scheme="S02").replace("Assets:Pool:Cash", "Assets:Pool:Petty"),
    PUSHED + payments(7) + "poptag #batch\n",  # a tag pushed over the cut between parts
    payments(5) + payment(25, "GL-999996", "1.00").replace('  source:', '  note: "multi\n2025 line"\n  source:')
    + payments(3).replace("GL-9", "GL-8"),  # a string running over a line that looks like a cut
    "".join(ODD_ROUNDING.format(n=n) for n in range(7)),  # each within the tolerance, not their sum
], ids=["balance", "open", "pushtag", "multi-line-string", "tolerance"])
def test_a_file_the_parts_cannot_answer_for_is_checked_whole(ledger, text):
    """Anything but transactions that balance to the penny, or a part that does not parse cleanly, and
    the check is left to a load of the whole (check returns None): the parts could answer otherwise."""
    assert check(ledger, text, 3) is None
    whole = check(ledger, text, WHOLE)
    assert whole is not None


def test_a_balance_assertion_in_a_big_new_file_is_met_by_all_its_entries_or_refused(ledger, monkeypatch):
    """The assertion, the new file's third part on its own, holds with none of the six payments and not
    with all of them: it is refused, as a check of the whole refuses it."""
    entries, _, _ = loader.load_file(str(ledger))
    s02 = sum((p.units.number for e in entries if hasattr(e, "postings") and e.date < datetime.date(2025, 10, 30)
               for p in e.postings if p.account == "Expenses:Scheme:S02"), Decimal(0))
    assertion = f"2025-10-30 balance Expenses:Scheme:S02  {s02} GBP\n"
    monkeypatch.setattr(landing_check, "part_size", lambda stages: 3)
    stages = load_ledger(ledger, keep_stages=True).stages
    with pytest.raises(landing.LandingRefused) as refused:
        landing.land(ledger, payments(6) + assertion, datetime.date(2025, 11, 3), stages)
    assert any("Balance failed for 'Expenses:Scheme:S02'" in line for line in refused.value.problems)
    assert not list((ledger.parent / "imports").glob("2025-11-03*"))


def test_an_error_found_by_a_part_is_not_said_again_by_the_sum(ledger):
    errors = check(ledger, payments(5) + payment(9, "GL-999999", "9.00", scheme="S99"), 2)
    assert len([e for e in errors if "Expenses:Scheme:S99" in e and "unknown account" in e]) == 1, errors
