"""`s75 verify FILE [--repo DIR] [--ledger PATH]`: is this statement what its commit gives?

A statement's cover names the ledger it was made from: "git <commit>, <path of the main file in the
repository>", with ", with uncommitted changes (sha256 ...)" when the ledger's files differed from
that commit (reports.statement.provenance). `s75 verify` reads the pool, the month and that line
from the file (HTML or XLSX), extracts the commit's tree into a temporary folder (`git archive`:
the repository itself is not touched), writes that month's statement from it with `s75 statement`
(with the s75 code in the commit when the commit holds it, else the s75 installed), and compares
the figures of the two, cell by cell, by tab, row and column; the generation date is not a figure.

Exit 0 and "identical: ..." when every figure agrees; exit 1 with the figures that differ, or with
one line saying why the file cannot be verified: not a statement, made from uncommitted changes or
from a ledger not in git, a commit the repository does not have, not a git repository.

Each kind of file has a reader (reports.statement_reader.READERS) returning a `StatementFile`: its
cover and its figures. A PDF statement would need one more reader there; until there is one a .pdf
is refused with a line saying so.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reports.statement_reader import PROVENANCE, SECTIONS, CannotVerify, StatementFile, read_statement


@dataclass(frozen=True)
class Source:
    commit: str
    ledger: str | None  # the main file's path in the repository (None on statements made before it was recorded)
    dirty: bool


def run_verify(args) -> int:
    path = Path(args.file)
    try:
        statement = read_statement(path)
        source = parse_provenance(statement.provenance, path)
        if source.dirty:
            raise CannotVerify(f"{path} was made from uncommitted changes to the ledger (after git {source.commit}): "
                               "no commit holds what it shows, so it cannot be verified")
        top = repository(args.repo)
        commit = resolve_commit(top, source.commit)
        ledger = args.ledger or source.ledger
        if not ledger:
            raise CannotVerify(f"{path} names git {source.commit} but not the ledger's main file in the repository "
                               "(made before statements recorded it): give it with --ledger, e.g. "
                               "--ledger ledger/main.beancount")
        with tempfile.TemporaryDirectory(prefix="s75-verify-") as work:
            rebuilt, code = rebuild(top, commit, ledger, statement, Path(work))
    except CannotVerify as exc:
        print(f"s75 verify: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # whatever else goes wrong, one line: never a traceback
        print(f"s75 verify: cannot verify {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    what = f"{statement.title} rebuilt from git {source.commit} ({ledger}) with {code}"
    differences = compare(statement, rebuilt)
    if not differences:
        print(f"identical: {path} is {what}")
        return 0
    print(f"{path} differs from {what}: {len(differences)} difference(s)")
    for line in differences:
        print(f"  {line}")
    return 1


# -- reading a statement -------------------------------------------------------------------------

def parse_provenance(text: str, path: Path) -> Source:
    if text.startswith("sha256 "):
        raise CannotVerify(f"{path} was made from a ledger that is not in git ({text}): there is no commit to "
                           "rebuild it from")
    match = PROVENANCE.match(text)
    if not match:
        raise CannotVerify(f"{path} is not a statement: its cover's ledger line ({text!r}) names no git commit")
    return Source(match.group("commit"), match.group("ledger"), bool(match.group("dirty")))


def _git(folder, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True)
    except OSError as exc:
        raise CannotVerify(f"cannot run git: {exc.strerror or exc}") from None


def repository(folder: str | None) -> Path:
    """The top folder of the git repository holding `folder` (default: the current folder)."""
    given = folder or "."
    if not Path(given).is_dir():
        raise CannotVerify(f"{given} is not a folder")
    result = _git(given, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        where = "the current folder" if folder is None else given
        raise CannotVerify(f"{where} is not in a git repository: run s75 verify in the ledger's repository, or "
                           "name it with --repo")
    return Path(result.stdout.decode().strip())


def resolve_commit(top: Path, commit: str) -> str:
    result = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}")
    if result.returncode != 0:
        raise CannotVerify(f"the repository at {top} has no commit {commit} (the history was rewritten, or the "
                           "commit was never pushed or fetched here)")
    return result.stdout.decode().strip()


# -- rebuilding ----------------------------------------------------------------------------------

def rebuild(top: Path, commit: str, ledger: str, statement: StatementFile, work: Path) -> tuple[StatementFile, str]:
    """The statement for the same month written from `commit`'s tree, read back; and which code wrote it."""
    if _git(top, "cat-file", "-e", f"{commit}:{ledger}").returncode != 0:
        raise CannotVerify(f"git {commit[:12]} has no {ledger} (the statement's ledger)")
    tree, out = work / "tree", work / "out"
    tree.mkdir()
    _extract(top, commit, tree)
    code_in_commit = all((tree / name).is_file() for name in ("s75/cli.py", "rules/position.py",
                                                               "reports/publish.py"))
    env = dict(os.environ)
    code = tree if code_in_commit else Path(__file__).resolve().parent.parent  # else the code running now
    env["PYTHONPATH"] = os.pathsep.join([str(code)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    command = [sys.executable, "-m", "s75.cli", "statement", str(tree / ledger),
               "--month", f"{statement.as_of:%Y-%m}", "--out", str(out)]
    result = subprocess.run(command, cwd=str(tree if code_in_commit else work), env=env, capture_output=True)
    if result.returncode != 0:
        said = [line for line in result.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        raise CannotVerify(f"the statement for {statement.as_of:%Y-%m} cannot be made from git {commit[:12]}: "
                           + (said[-1].strip() if said else f"s75 statement exited {result.returncode}"))
    made = sorted(out.glob(f"*.{statement.kind}"))
    if len(made) != 1:
        raise CannotVerify(f"s75 statement wrote no .{statement.kind} from git {commit[:12]}")
    return read_statement(made[0]), "the s75 code in that commit" if code_in_commit else "the s75 installed here"


def _extract(top: Path, commit: str, into: Path) -> None:
    """The commit's files into `into`, through `git archive` (nothing in the repository changes)."""
    try:
        process = subprocess.Popen(["git", "-C", str(top), "archive", "--format=tar", commit],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise CannotVerify(f"cannot run git: {exc.strerror or exc}") from None
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            archive.extractall(into, filter="data")
    except tarfile.TarError as exc:
        process.kill()
        raise CannotVerify(f"cannot extract git {commit[:12]}: {exc}") from None
    finally:
        process.stdout.close()
        error = process.stderr.read().decode("utf-8", "replace").strip()
        process.stderr.close()
        process.wait()
    if process.returncode != 0:
        raise CannotVerify(f"cannot extract git {commit[:12]}: {error.splitlines()[-1] if error else 'git failed'}")


# -- comparing -----------------------------------------------------------------------------------

def compare(original: StatementFile, rebuilt: StatementFile) -> list[str]:
    """The differences, one line each, in the file's order: the pool and month, then each figure; a row
    only one of them has is one line."""
    lines = []
    if original.pool != rebuilt.pool:
        lines.append(f"pool: {original.pool} in the file, {rebuilt.pool} rebuilt")
    if original.title != rebuilt.title:
        lines.append(f"period: {original.title} in the file, {rebuilt.title} rebuilt")
    rows_here = {key[:3] for key in original.figures}
    rows_there = {key[:3] for key in rebuilt.figures}
    reported_rows = set()
    keys = list(original.figures) + [k for k in rebuilt.figures if k not in original.figures]
    for key in keys:
        row = key[:3]
        if row not in rows_there or row not in rows_here:
            if row not in reported_rows:
                reported_rows.add(row)
                side = "in the file only" if row not in rows_there else "in the rebuilt statement only"
                lines.append(f"{_label(row)}: {side}")
            continue
        here, there = original.figures.get(key), rebuilt.figures.get(key)
        if here != there:
            lines.append(f"{_label(key)}: {_value(here)} in the file, {_value(there)} rebuilt")
    return lines


def _label(key: tuple[str, ...]) -> str:
    section, table, row, *column = key
    parts = [SECTIONS.get(section, section)]
    if table and not table.startswith("table ") and not table.startswith("#"):
        parts.append(table)
    parts.append(f"paragraph {column[0]}" if row == "text" and column else row)
    if column and row != "text":
        parts.append(column[0])
    return ", ".join(p for p in parts if p)


def _value(text: str | None) -> str:
    if text is None:
        return "(nothing)"
    return text if text else "(blank)"


