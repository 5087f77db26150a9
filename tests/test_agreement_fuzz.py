"""The agreement's checks as a structural promise: the example pool's agreement mutated at random
(numbers, signs, names, dates, splits, directive order, lines dropped or doubled), seeded, and for
every mutation `s75 check`, `s75 position` and `s75 statement` end with a message, never a traceback
or a plugin crash; whenever `check` passes, `position` and `statement` succeed.

S75_FUZZ_CASES sets the number of mutations (default 500); S75_FUZZ_SEED the first seed. The
statement's PDF (its HTML laid out by WeasyPrint, about a second each) is made for one clean check in
PDF_EVERY; the others stand a placeholder in for it, so that the run stays within minutes.
"""
from __future__ import annotations

import contextlib
import io
import os
import random
import re
import shutil

import reports.publish as publish
from conftest import EXAMPLE
from s75.cli import main

CASES = int(os.environ.get("S75_FUZZ_CASES", "500"))
SEED = int(os.environ.get("S75_FUZZ_SEED", "7501"))
AGREEMENT_FILES = ["agreement.beancount", "schemes.beancount", "2025-26/plan.beancount",
                   "2025-26/forecasts.beancount", "2025-26/metrics.beancount", "2025-26/statements.beancount"]
CRASH = re.compile(r"Traceback|Error applying plugin|<load>:0|Exception|Error:.*object")
PDF_EVERY = 25

_NUMBER = re.compile(r"(?<![\d-])-?\d+(?:\.\d+)?(?![\d-])")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_QUOTED = re.compile(r'"([^"]*)"')


def _mutate_number(rng, line):
    numbers = [m for m in _NUMBER.finditer(line) if not _DATE.match(line[m.start():])]
    if not numbers:
        return None
    m = rng.choice(numbers)
    value = m.group(0)
    new = rng.choice([f"-{value.lstrip('-')}", "0", "0.00", value + "0", "999999999999.99", "-0.01",
                      value.lstrip("-") + ".01" if "." not in value else value[:-1] + "7"])
    return line[:m.start()] + new + line[m.end():]


def _mutate_date(rng, line):
    if not _DATE.match(line):
        return None
    new = rng.choice(["2024-04-01", "2025-03-31", "2025-04-01", "2025-09-30", "2025-10-01", "2026-03-31",
                      "2026-04-01", "2027-01-15", "1999-12-31"])
    return new + line[10:]


def _mutate_name(rng, line, vocabulary):
    quoted = list(_QUOTED.finditer(line))
    if not quoted:
        return None
    m = rng.choice(quoted)
    new = rng.choice([rng.choice(vocabulary), m.group(1) + "X", "", m.group(1).lower(), "2024-25", "2099-00",
                      "ICB 60, ICB 40", "equal", "Council 150, ICB -50", "proportional", "S99"])
    return line[:m.start()] + f'"{new}"' + line[m.end():]


def mutate(rng: random.Random, files: dict[str, list[str]]) -> str:
    """Apply one to three mutations to `files` (name -> lines) in place; say what was done."""
    vocabulary = sorted({q for lines in files.values() for line in lines for q in _QUOTED.findall(line)
                         if len(q) < 30})
    done = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(files))
        lines = files[name]
        candidates = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith(";")]
        if not candidates:
            continue
        i = rng.choice(candidates)
        kind = rng.choice(["number", "number", "date", "name", "name", "drop", "double", "swap"])
        line = lines[i]
        if kind == "number":
            new = _mutate_number(rng, line)
        elif kind == "date":
            new = _mutate_date(rng, line)
        elif kind == "name":
            new = _mutate_name(rng, line, vocabulary)
        elif kind == "drop":
            lines.pop(i)
            done.append(f"{name}:{i + 1} dropped {line.strip()!r}")
            continue
        elif kind == "double":
            lines.insert(i, line)
            done.append(f"{name}:{i + 1} doubled {line.strip()!r}")
            continue
        else:  # swap the dates of two directives: the order in which they take effect
            dated = [j for j in candidates if _DATE.match(lines[j])]
            j = rng.choice(dated) if dated else i
            if not (_DATE.match(line) and _DATE.match(lines[j])):
                continue
            lines[i], lines[j] = lines[j][:10] + line[10:], line[:10] + lines[j][10:]
            done.append(f"{name}:{i + 1} and {j + 1} swapped dates")
            continue
        if new is not None and new != line:
            lines[i] = new
            done.append(f"{name}:{i + 1} {line.strip()!r} -> {new.strip()!r}")
    return "; ".join(done) or "nothing"


def run(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as exc:  # argparse
            status = exc.code
        except Exception as exc:  # noqa: BLE001  (the finding is the exception itself)
            return -1, f"Traceback: {type(exc).__name__}: {exc}"
    return status, out.getvalue() + err.getvalue()


def test_mutated_agreements_never_crash_and_a_clean_check_means_position_and_statement_work(tmp_path, monkeypatch):
    real_pdf = publish.statement_pdf
    ledger_dir = tmp_path / "ledger"
    shutil.copytree(EXAMPLE.parent, ledger_dir, ignore=shutil.ignore_patterns(".*"))
    originals = {name: (ledger_dir / name).read_text().splitlines(keepends=True) for name in AGREEMENT_FILES}
    ledger = str(ledger_dir / "main.beancount")
    findings, passed = [], 0
    for case in range(CASES):
        rng = random.Random(SEED + case)
        files = {name: list(lines) for name, lines in originals.items()}
        what = mutate(rng, files)
        for name, lines in files.items():
            (ledger_dir / name).write_text("".join(lines))
        status, text = run("check", ledger)
        if status not in (0, 1) or CRASH.search(text):
            findings.append(f"seed {SEED + case}: check ({what}): {text.strip().splitlines()[-1:]}")
            continue
        if status != 0:
            continue
        passed += 1
        monkeypatch.setattr(publish, "statement_pdf",
                            real_pdf if passed % PDF_EVERY == 1 else lambda statement, html: b"%PDF-")
        for args in (["position", ledger, "--date", "2025-09-30"],
                     ["statement", ledger, "--month", "2025-09", "--out", str(tmp_path / "out")]):
            status, text = run(*args)
            if status != 0 or CRASH.search(text):
                findings.append(f"seed {SEED + case}: {args[0]} after a clean check ({what}): "
                                f"{text.strip().splitlines()[-1:]}")
    assert findings == [], f"{len(findings)} of {CASES} mutations:\n" + "\n".join(findings[:15])
    assert 0 < passed < CASES  # the mutations both break and keep ledgers valid
