"""The statement's Excel workbook: written by reports.workbook (with XlsxWriter, which stores each
formula's value beside it; README, "The statement's workbook"). This name stays for the code that
imports the workbook from here (`s75 verify` finds the tables by the headings' fill)."""
from __future__ import annotations

from reports.workbook import MONEY, SHEETS, statement_xlsx
from reports.workbook_sheet import HEADER_RGB

__all__ = ["HEADER_RGB", "MONEY", "SHEETS", "statement_xlsx"]
