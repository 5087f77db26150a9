"""Heavy libraries are imported only by what needs them: no workbook, spreadsheet or PDF library is
loaded by `s75 check`, `s75 position`, `s75 trace`, a CSV import, or the Fava page's module when Fava
starts. Each case runs in a fresh interpreter, so that nothing imported by other tests counts."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLE, ROOT

HEAVY = ("openpyxl", "numpy", "pandas", "pyarrow", "duckdb", "xlsxwriter", "weasyprint")

PROBE = """
import contextlib, io, sys
args = sys.argv[1:]
if args[0] == "--module":
    __import__(args[1])
else:
    from s75.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        main(args)
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


def loaded_after(*args: str) -> set[str]:
    """The heavy libraries in sys.modules after `s75 ARGS` (or `--module NAME`) in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], cwd=ROOT,
                            capture_output=True, text=True, env={"BEANCOUNT_DISABLE_LOAD_CACHE": "1",
                                                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stdout.split())


@pytest.mark.parametrize("args", [
    ("check", str(EXAMPLE)),
    ("position", str(EXAMPLE), "--date", "2025-09-30"),
    ("position", str(EXAMPLE), "--date", "2025-09-30", "--json"),
    ("trace", str(EXAMPLE), "--month", "2025-09", "--scheme", "S01"),
    ("--module", "reports.fava_pool"),
    ("--module", "reports.publish"),
], ids=["check", "position", "position-json", "trace", "fava-page", "publish"])
def test_no_heavy_library_where_none_is_needed(args):
    assert loaded_after(*args) == set()


def test_a_csv_import_loads_no_spreadsheet_library(tmp_path):
    from bench.generate import generate

    generate(tmp_path / "pool", 200)
    shutil.copytree(tmp_path / "pool" / "empty", tmp_path / "into")
    assert loaded_after("import", str(tmp_path / "pool" / "extract.csv"), "--ledger",
                        str(tmp_path / "into" / "main.beancount"), "--dry-run") == set()


def test_the_workbook_writer_loads_xlsxwriter_alone():
    """The statement's workbook needs XlsxWriter, not openpyxl and numpy (s75 verify reads workbooks
    with openpyxl; the writer only shares the headings' colour with it). And the probe is not blind."""
    assert loaded_after("--module", "reports.workbook") == {"xlsxwriter"}
