"""s75 verify: a statement rebuilt from the commit its cover names, compared figure by figure.

Each test works in a temporary git repository holding a copy of the example ledger (and, for one,
the s75 code), so nothing here touches this repository's history.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from s75.cli import main
from conftest import ROOT

MONTH = "2025-09"
STEM = f"EB-BCF-{MONTH}-statement"
S04_LINE = "Expenses:Scheme:S04                      78828.27 GBP"  # spend-2025-09.beancount, line 6
GIT_ENV = {"GIT_AUTHOR_NAME": "Pooled Fund Manager", "GIT_AUTHOR_EMAIL": "pfm@example.org",
           "GIT_COMMITTER_NAME": "Pooled Fund Manager", "GIT_COMMITTER_EMAIL": "pfm@example.org"}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository holding the example ledger under ledger/, committed."""
    repo = tmp_path / "pool"
    shutil.copytree(ROOT / "ledger", repo / "ledger", ignore=shutil.ignore_patterns(".*cache*", "__pycache__"))
    git(repo, "init", "-q")
    commit_all(repo, "The pool's ledger")
    return repo


def statement(repo: Path, out: Path) -> dict[str, Path]:
    assert main(["statement", str(repo / "ledger" / "main.beancount"), "--month", MONTH, "--out", str(out)]) == 0
    return {kind: out / f"{STEM}.{kind}" for kind in ("html", "xlsx")}


def verify(capsys, file: Path, *extra: str) -> tuple[int, list[str], list[str]]:
    capsys.readouterr()  # what came before
    code = main(["verify", str(file), *extra])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def cover_line(files: dict[str, Path]) -> tuple[str, str]:
    """The "Ledger: ..." line of the HTML and of the XLSX."""
    html = re.search(r"Ledger: (.*?)\. Generated", files["html"].read_text()).group(1)
    ws = load_workbook(files["xlsx"])["Finance - Summary"]
    xlsx = next(c.value for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Ledger: "))
    return html, xlsx[len("Ledger: "):]


def change_s04(repo: Path, amount: str = "88828.27") -> None:
    spend = repo / "ledger" / "2025-26" / "spend-2025-09.beancount"
    text = spend.read_text()
    assert S04_LINE in text
    spend.write_text(text.replace(S04_LINE, S04_LINE.replace("78828.27", amount)))


def name_commit(files: dict[str, Path], old: str, new: str) -> None:
    """Make the files name commit `new` where they named `old` (as if made from `new`)."""
    files["html"].write_text(files["html"].read_text().replace(f"git {old[:12]},", f"git {new[:12]},"))
    wb = load_workbook(files["xlsx"])
    ws = wb["Finance - Summary"]
    for cell in ws["A"]:
        if isinstance(cell.value, str) and cell.value.startswith("Ledger: "):
            cell.value = cell.value.replace(f"git {old[:12]},", f"git {new[:12]},")
    wb.save(files["xlsx"])


def test_the_cover_names_the_commit_and_the_ledger_in_the_repository(repo, tmp_path):
    head = git(repo, "rev-parse", "HEAD")
    html, xlsx = cover_line(statement(repo, tmp_path / "out"))
    assert html == xlsx == f"git {head[:12]}, ledger/main.beancount"


@pytest.mark.parametrize("kind", ["html", "xlsx"])
def test_a_statement_from_a_commit_is_identical_when_rebuilt(repo, tmp_path, capsys, kind):
    files = statement(repo, tmp_path / "out")
    code, out, err = verify(capsys, files[kind], "--repo", str(repo))
    assert (code, err) == (0, [])
    assert out == [f"identical: {files[kind]} is Month 6, to 30 September 2025 rebuilt from git "
                   f"{git(repo, 'rev-parse', 'HEAD')[:12]} (ledger/main.beancount) with the s75 installed here"]


def test_verify_finds_the_repository_from_the_current_folder(repo, tmp_path, capsys, monkeypatch):
    files = statement(repo, tmp_path / "out")
    monkeypatch.chdir(repo / "ledger" / "2025-26")
    code, out, _ = verify(capsys, files["html"])
    assert code == 0 and out[0].startswith("identical: ")


def test_after_the_ledger_changes_and_is_committed(repo, tmp_path, capsys):
    """The statement of the first commit still verifies (it is rebuilt from its commit, not the latest);
    the same figures claimed for the later commit are listed where they differ, in both files."""
    first = git(repo, "rev-parse", "HEAD")
    files = statement(repo, tmp_path / "out")
    change_s04(repo)
    second = commit_all(repo, "S04: Rosewood's September invoice corrected")

    for kind in ("html", "xlsx"):
        code, out, _ = verify(capsys, files[kind], "--repo", str(repo))
        assert code == 0 and out[0].startswith("identical: ")

    name_commit(files, first, second)
    code, out, err = verify(capsys, files["html"], "--repo", str(repo))
    assert (code, err) == (1, [])
    assert out[0] == (f"{files['html']} differs from Month 6, to 30 September 2025 rebuilt from git {second[:12]} "
                      f"(ledger/main.beancount) with the s75 installed here: {len(out) - 1} difference(s)")
    listed = [line.strip() for line in out[1:]]
    for expected in (
            "Finance - Schemes, S04, Actual to date: 1,912,000.00 in the file, 1,922,000.00 rebuilt",
            "Finance - Schemes, S04, Variance to date: 112,000.00 in the file, 122,000.00 rebuilt",
            "Finance - Schemes, Total, Actual to date: 12,060,000.00 in the file, 12,070,000.00 rebuilt",
            "Finance - Schemes, Acute (1 scheme), Actual to date: 1,912,000.00 in the file, 1,922,000.00 rebuilt",
            "Forecast variance and cumulative spend, Actual, Sep: 12,060,000.00 in the file, "
            "12,070,000.00 rebuilt",
            "Entries behind the figures, S04 Discharge to assess: actual to date, "
            "2025-26/spend-2025-09.beancount:3, Amount: 78,828.27 in the file, 88,828.27 rebuilt",
            "Entries behind the figures, S04 Discharge to assess: actual to date, Total, Amount: "
            "1,912,000.00 in the file, 1,922,000.00 rebuilt"):
        assert expected in listed, (expected, listed)
    assert not any("Forecast outturn" in line or "S05" in line or "Generated" in line for line in listed)

    code, out, err = verify(capsys, files["xlsx"], "--repo", str(repo))
    assert (code, err) == (1, [])
    listed = [line.strip() for line in out[1:]]
    for expected in (
            "Finance - Schemes, S04, Actual to date: 1,912,000.00 in the file, 1,922,000.00 rebuilt",
            "Finance - Schemes, Total, Actual to date: 12,060,000.00 in the file, 12,070,000.00 rebuilt",
            "Finance - Schemes, Subtotals by area of spend, Acute, Actual to date: 1,912,000.00 in the file, "
            "1,922,000.00 rebuilt",
            "Finance - Summary, Cumulative spend, Sep, Actual (cumulative): 12,060,000.00 in the file, "
            "12,070,000.00 rebuilt"):
        assert expected in listed, (expected, listed)


def test_a_figure_altered_in_the_file_is_listed(repo, tmp_path, capsys):
    files = statement(repo, tmp_path / "out")
    html = files["html"].read_text()
    files["html"].write_text(html.replace('data-field="outstanding">7,899,999.98<', 'data-field="outstanding">7,000,000.00<'))
    code, out, _ = verify(capsys, files["html"], "--repo", str(repo))
    assert code == 1 and [line.strip() for line in out[1:]] == [
        "Finance - Summary, NHS Example Integrated Care Board, Outstanding: 7,000,000.00 in the file, "
        "7,899,999.98 rebuilt"]

    wb = load_workbook(files["xlsx"])
    ws = wb["Finance - Schemes"]
    row = next(c.row for c in ws["A"] if c.value == "S02")
    column = next(c.column for c in ws[4] if c.value == "Forecast outturn")
    ws.cell(row, column).value = 2900000
    wb.save(files["xlsx"])
    code, out, _ = verify(capsys, files["xlsx"], "--repo", str(repo))
    assert code == 1
    listed = [line.strip() for line in out[1:]]
    assert "Finance - Schemes, S02, Forecast outturn: 2,900,000.00 in the file, 3,020,000.00 rebuilt" in listed
    # the totals are formulas: worked out from the altered cell, they differ too
    assert "Finance - Schemes, Total, Forecast outturn: 24,384,000.00 in the file, 24,504,000.00 rebuilt" in listed


@pytest.mark.parametrize("how", ["changed", "new file", "ignored file"])
def test_a_statement_from_uncommitted_changes_says_so_and_cannot_be_verified(repo, tmp_path, capsys, how):
    head = git(repo, "rev-parse", "HEAD")
    if how == "changed":
        change_s04(repo)
    else:
        extra = repo / "ledger" / "imports" / "2025-10-02.beancount"
        extra.write_text('2025-09-30 * "Late invoice" "S04 beds"\n  Expenses:Scheme:S04  100.00 GBP\n'
                         '  Assets:Pool:Cash\n')
        if how == "ignored file":
            (repo / ".gitignore").write_text("ledger/imports/2025-10-02.beancount\n")
            commit_all(repo, "ignore a file")
            head = git(repo, "rev-parse", "HEAD")
    files = statement(repo, tmp_path / "out")
    html, xlsx = cover_line(files)
    assert html == xlsx
    assert re.fullmatch(rf"git {head[:12]}, ledger/main\.beancount, with uncommitted changes \(sha256 [0-9a-f]{{16}}\)",
                        html)
    for kind in ("html", "xlsx"):
        code, out, err = verify(capsys, files[kind], "--repo", str(repo))
        assert (code, out) == (1, [])
        assert err == [f"s75 verify: {files[kind]} was made from uncommitted changes to the ledger (after git "
                       f"{head[:12]}): no commit holds what it shows, so it cannot be verified"]


def test_the_rebuild_uses_the_s75_code_in_the_commit_when_it_holds_it(repo, tmp_path, capsys):
    """With the code committed beside the ledger, the statement is rebuilt by that code: here the committed
    code heads a column differently from the installed code that wrote the file, so that column differs."""
    for package in ("s75", "rules", "reports", "importers"):
        shutil.copytree(ROOT / package, repo / package, ignore=shutil.ignore_patterns("__pycache__"))
    schemes = repo / "reports" / "templates" / "statement" / "schemes.html"
    schemes.write_text(schemes.read_text().replace(">Planned savings<", ">Savings planned<"))
    commit_all(repo, "The s75 code beside the ledger")
    files = statement(repo, tmp_path / "out")
    code, out, _ = verify(capsys, files["html"], "--repo", str(repo))
    assert code == 1 and out[0].endswith(f"with the s75 code in that commit: {len(out) - 1} difference(s)")
    listed = [line.strip() for line in out[1:]]
    assert all(", Planned savings: " in line or ", Savings planned: " in line for line in listed), listed
    assert "Finance - Schemes, S04, Planned savings: 900,000.00 in the file, (nothing) rebuilt" in listed
    assert "Finance - Schemes, S04, Savings planned: (nothing) in the file, 900,000.00 rebuilt" in listed
    code, out, _ = verify(capsys, files["xlsx"], "--repo", str(repo))  # the workbook's code is unchanged
    assert code == 0 and out[0].endswith("with the s75 code in that commit")


def test_a_statement_that_does_not_record_its_ledger_path_needs_it_given(repo, tmp_path, capsys):
    head = git(repo, "rev-parse", "HEAD")[:12]
    files = statement(repo, tmp_path / "out")
    files["html"].write_text(files["html"].read_text().replace(f"git {head}, ledger/main.beancount.", f"git {head}."))
    code, out, err = verify(capsys, files["html"], "--repo", str(repo))
    assert code == 1 and out == [] and len(err) == 1 and "give it with --ledger" in err[0]
    code, out, err = verify(capsys, files["html"], "--repo", str(repo), "--ledger", "ledger/main.beancount")
    assert code == 0 and out[0].startswith("identical: ")
    code, out, err = verify(capsys, files["html"], "--repo", str(repo), "--ledger", "ledger/other.beancount")
    assert (code, out) == (1, []) and err == [f"s75 verify: git {head} has no ledger/other.beancount (the "
                                              "statement's ledger)"]


def one_line(capsys, file, *extra) -> str:
    code, out, err = verify(capsys, file, *extra)
    assert (code, out, len(err)) == (1, [], 1), (out, err)
    assert "Traceback" not in err[0]
    return err[0]


def test_what_cannot_be_verified_is_one_line_each(repo, tmp_path, capsys):
    files = statement(repo, tmp_path / "out")
    head = git(repo, "rev-parse", "HEAD")[:12]
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Minutes</h1><p>Ledger: git 0123456789ab. Generated 1 May 2026.</p></body></html>")
    assert one_line(capsys, page, "--repo", str(repo)) == (
        f"s75 verify: {page} is not a statement: its cover does not name a pool, a month and the ledger it was "
        "made from")
    book = tmp_path / "book.xlsx"
    load_workbook(files["xlsx"]).save(book)
    wb = load_workbook(book)
    wb["Finance - Summary"].title = "Sheet1"
    wb.save(book)
    assert "is not a statement: it has no Finance - Summary sheet" in one_line(capsys, book, "--repo", str(repo))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert "is not a statement: not a workbook s75 statement wrote" in one_line(capsys, broken)
    notes = tmp_path / "notes.txt"
    notes.write_text("Month 6")
    assert "reads the .html or .xlsx files s75 statement writes" in one_line(capsys, notes)
    pdf = tmp_path / f"{STEM}.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert "PDF statements cannot be verified yet" in one_line(capsys, pdf)
    assert one_line(capsys, tmp_path / "missing.html") == f"s75 verify: {tmp_path / 'missing.html'}: no such file"
    assert one_line(capsys, tmp_path, "--repo", str(repo)).endswith("reads the .html or .xlsx files s75 statement "
                                                                    "writes")

    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    assert one_line(capsys, files["html"], "--repo", str(elsewhere)) == (
        f"s75 verify: {elsewhere} is not in a git repository: run s75 verify in the ledger's repository, or name "
        "it with --repo")

    gone = tmp_path / "gone.html"
    gone.write_text(files["html"].read_text().replace(f"git {head},", "git 0123456789ab,"))
    assert one_line(capsys, gone, "--repo", str(repo)) == (
        f"s75 verify: the repository at {repo} has no commit 0123456789ab (the history was rewritten, or the "
        "commit was never pushed or fetched here)")

    older = tmp_path / "older.html"  # as statements said it before they named the main file
    older.write_text(files["html"].read_text().replace(f"git {head}, ledger/main.beancount.",
                                                       f"git {head} + uncommitted changes (sha256 0123456789abcdef)."))
    assert one_line(capsys, older, "--repo", str(repo)) == (
        f"s75 verify: {older} was made from uncommitted changes to the ledger (after git {head}): no commit holds "
        "what it shows, so it cannot be verified")

    outside = tmp_path / "outside"
    shutil.copytree(ROOT / "ledger", outside / "ledger", ignore=shutil.ignore_patterns(".*cache*", "__pycache__"))
    loose = statement(outside, tmp_path / "loose")
    assert "was made from a ledger that is not in git (sha256 " in one_line(capsys, loose["html"], "--repo", str(repo))


def test_a_rewritten_commit_cannot_be_verified(repo, tmp_path, capsys):
    files = statement(repo, tmp_path / "out")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "--amend", "-m", "The pool's ledger, reworded")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "-q", "--prune=now")
    assert one_line(capsys, files["xlsx"], "--repo", str(repo)) == (
        f"s75 verify: the repository at {repo} has no commit {head[:12]} (the history was rewritten, or the "
        "commit was never pushed or fetched here)")
