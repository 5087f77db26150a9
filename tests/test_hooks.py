"""The commit guard: `make hooks` in a copy of the repository, then commits of a clean and a broken ledger.

Each test works in a temporary git repository (the example ledger, hooks/ and the Makefile), never in this
one; `s75` is found on PATH, as after `make install`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

S75_ON_PATH = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
GIT_ENV = {"GIT_AUTHOR_NAME": "Pooled Fund Manager", "GIT_AUTHOR_EMAIL": "pfm@example.org",
           "GIT_COMMITTER_NAME": "Pooled Fund Manager", "GIT_COMMITTER_EMAIL": "pfm@example.org"}
SPEND = "ledger/2025-26/spend-2025-09.beancount"
STRAY = """
2025-09-30 * "Acme Homecare Ltd" "Packages September"
  system: "council"
  ref: "GL-999999"
  Expenses:Scheme:S99                       1000.00 GBP
  Assets:Pool:Cash
"""


def run(repo: Path, *command: str, path: str = S75_ON_PATH, **env) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, "PATH": path, **env})


def git(repo: Path, *args: str, **env) -> subprocess.CompletedProcess:
    return run(repo, "git", *args, **env)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository with the example ledger committed (before the guard) and the guard installed."""
    repo = tmp_path / "pool"
    shutil.copytree(ROOT / "ledger", repo / "ledger", ignore=shutil.ignore_patterns(".*cache*", "__pycache__"))
    shutil.copytree(ROOT / "hooks", repo / "hooks")
    shutil.copy(ROOT / "Makefile", repo / "Makefile")
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", "-A")
    assert git(repo, "commit", "-q", "-m", "The pool's ledger").returncode == 0
    made = run(repo, "make", "--no-print-directory", "hooks")
    assert made.returncode == 0, made.stderr
    assert "commit guard on" in made.stdout
    assert git(repo, "config", "core.hooksPath").stdout.strip() == "hooks"
    return repo


def add_stray_spend(repo: Path) -> int:
    """A payment to an account no scheme owns; returns the line of its transaction."""
    spend = repo / SPEND
    line = len(spend.read_text().splitlines()) + 2
    spend.write_text(spend.read_text() + STRAY)
    return line


def test_a_clean_ledger_commits(repo):
    forecasts = repo / "ledger" / "2025-26" / "forecasts.beancount"
    forecasts.write_text(forecasts.read_text() + '\n2025-09-30 custom "s75-forecast" "2025-26" "S03" 1400000.00 GBP\n')
    before = head(repo)
    git(repo, "add", "ledger")
    done = git(repo, "commit", "-q", "-m", "S03 forecast, September")
    assert done.returncode == 0, done.stderr
    assert head(repo) != before


def test_a_broken_ledger_is_refused_with_the_checks_messages(repo):
    line = add_stray_spend(repo)
    before = head(repo)
    git(repo, "add", SPEND)
    refused = git(repo, "commit", "-q", "-m", "September spend")
    assert refused.returncode != 0
    assert head(repo) == before
    messages = refused.stderr.splitlines()
    assert f"{SPEND}:{line}: Invalid reference to unknown account 'Expenses:Scheme:S99'" in messages, messages
    assert "1 error(s) in ledger/main.beancount" in messages
    assert messages[-1].startswith("commit guard: ledger/main.beancount fails s75 check as staged; commit refused")
    assert "Traceback" not in refused.stderr


def test_the_guard_checks_what_is_staged_not_the_working_copy(repo):
    spend = repo / SPEND
    clean = spend.read_text()
    add_stray_spend(repo)
    git(repo, "add", SPEND)
    spend.write_text(clean)  # corrected on disk, but the broken file is what would be committed
    assert git(repo, "commit", "-q", "-m", "September spend").returncode != 0

    git(repo, "add", SPEND)  # now the correction is staged ...
    add_stray_spend(repo)  # ... and a new mistake is on disk only
    forecasts = repo / "ledger" / "2025-26" / "forecasts.beancount"
    forecasts.write_text(forecasts.read_text() + '\n2025-09-30 custom "s75-forecast" "2025-26" "S03" 1400000.00 GBP\n')
    git(repo, "add", "ledger/2025-26/forecasts.beancount")
    assert git(repo, "commit", "-q", "-m", "S03 forecast").returncode == 0


def test_a_file_the_ledger_includes_but_is_not_staged_is_missing_from_the_check(repo):
    main = repo / "ledger" / "main.beancount"
    main.write_text(main.read_text() + 'include "2025-26/adjustments.beancount"\n')
    (repo / "ledger" / "2025-26" / "adjustments.beancount").write_text("; adjustments\n")
    git(repo, "add", "ledger/main.beancount")
    refused = git(repo, "commit", "-q", "-m", "Adjustments file")
    assert refused.returncode != 0 and "adjustments.beancount" in refused.stderr
    git(repo, "add", "ledger/2025-26/adjustments.beancount")
    assert git(repo, "commit", "-q", "-m", "Adjustments file").returncode == 0


def test_S75_LEDGER_names_another_ledger(repo):
    git(repo, "mv", "ledger", "books")
    moved = git(repo, "commit", "-q", "-m", "Books folder", S75_LEDGER="books/main.beancount")
    assert moved.returncode == 0, moved.stderr
    add_stray_spend_at = repo / "books" / "2025-26" / "spend-2025-09.beancount"
    add_stray_spend_at.write_text(add_stray_spend_at.read_text() + STRAY)
    git(repo, "add", "books")
    refused = git(repo, "commit", "-q", "-m", "September spend", S75_LEDGER="books/main.beancount")
    assert refused.returncode != 0 and "books/2025-26/spend-2025-09.beancount:" in refused.stderr
    # without S75_LEDGER the guard looks for ledger/main.beancount, which this commit does not have
    let_through = git(repo, "commit", "-q", "-m", "September spend")
    assert let_through.returncode == 0
    assert "ledger/main.beancount is not in this commit" in let_through.stderr


def test_without_s75_installed_the_commit_is_refused(repo):
    refused = run(repo, "git", "commit", "-q", "--allow-empty", "-m", "Nothing", path="/usr/bin:/bin")
    assert refused.returncode != 0
    assert refused.stderr.strip() == "commit guard: s75 is not installed here (run 'make install'); commit refused"
