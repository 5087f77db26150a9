"""Reading extracts row by row, whatever they arrive as: CSV (UTF-8, UTF-8 with BOM or Windows-1252,
one line at a time, never the whole file) or XLSX (openpyxl read-only, values not formulas).

Each data row comes out as a `Row` (its file row number and a dict of header -> text) or, when it
cannot be read at all, a `Rejection` naming the file and row. Header matching, money and date
parsing live here so that every importer treats bad input the same way (docs/importing.md).
"""
from __future__ import annotations

import csv
import datetime
import re
import stat
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

MAX_FIELD = 64 * 1024  # no real extract has a field this long
csv.field_size_limit(MAX_FIELD)


class Refused(Exception):
    """The whole file is refused; nothing from it is written."""


@dataclass(frozen=True)
class Row:
    number: int  # row number in the file (1 is the header row for CSV)
    values: dict[str, str]
    formulas: tuple[str, ...] = ()  # XLSX: headers whose cell held a formula
    file: str = ""  # "extract.csv", or "book.xlsx:Sheet" in a workbook of several sheets

    def formula(self, *fields: str) -> str | None:
        """Why the row cannot be taken when one of `fields` held a formula, not a value."""
        field = next((f for f in fields if f in self.formulas), None)
        if field is None:
            return None
        return f"{field.replace('_', ' ')} is a formula ({self.values[field]}): export values, not formulas"


@dataclass(frozen=True)
class Rejection:
    file: str
    number: int
    reason: str
    amount: Decimal | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.number}: {self.reason}"


def unreadable(path: Path) -> str:
    """Why `path` cannot be read as an extract, in a few plain words; "" when it can. Checked before
    anything opens it: opening a named pipe would wait for ever."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in path.name):
        return "its name holds a line break or control character: rename the file"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file: name the extract files in it"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe or a device): save the extract as a file first"
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if path.suffix.lower() == ".xlsx":
        try:
            sheet_names(path)
        except Refused as exc:
            return str(exc)
    return ""


def shape_problem(path: Path) -> str:
    """What a file that no importer recognised is, when its first bytes say: "" when they say nothing."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(1024)
    except OSError:
        return ""
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or start.count(b"\x00") > len(start) // 4 > 0:
        return "is UTF-16 text: save it as CSV UTF-8"
    if start.startswith(b"PK\x03\x04") and path.suffix.lower() != ".xlsx":
        return f"is an XLSX workbook named {path.suffix or 'without .xlsx'}: name it .xlsx"
    return ""


def _decode(line: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252, decided line by line so that files stream."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _csv_lines(path: Path) -> Iterator[str]:
    """The file's lines, decoded; a line break is LF, CR LF or a lone CR (old spreadsheet exports)."""
    with open(path, "rb") as handle:
        for line in handle:
            body = line.rstrip(b"\r\n")
            if b"\r" in body:
                for part in body.split(b"\r"):
                    yield _decode(part + b"\n")
                continue
            yield _decode(line)


def _delimiter(path: Path) -> str:
    """A tab when the first line with text has tabs and no commas (a tab-separated export), else a comma."""
    for line in _csv_lines(path):
        if line.strip():
            return "\t" if "\t" in line and "," not in line else ","
    return ","


def header_row(path: Path, sheet: str | None = None, columns: dict | None = None) -> list[str]:
    """The header row of a CSV or an XLSX's sheet (default the first), stripped: the first of its first
    rows with text that has `columns`, else its first row with text; [] when none."""
    first, seen = None, 0
    for number, cells in _raw_rows(path, sheet):
        if isinstance(cells, list) and any(c.strip() for c in cells):
            headers = [c.strip() for c in cells]
            if columns is None or has_layout(headers, columns):
                return headers
            first, seen = first or headers, seen + 1
            if seen > TITLE_ROWS:
                break
    return first or []


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names; Refused when it is not a readable workbook."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise Refused(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _raw_rows(path: Path, sheet: str | None = None) -> Iterator[tuple[int, list[str] | str]]:
    """(row number, cells) per row, or (row number, error text) for a row that cannot be parsed."""
    if path.suffix.lower() == ".xlsx":
        yield from _xlsx_rows(path, sheet)
        return
    reader = csv.reader(_csv_lines(path), delimiter=_delimiter(path))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"cannot read the row ({exc}); a real extract's line is far shorter"
            continue
        if reader.line_num > start:
            yield start, (f"a quote opened on this line is not closed until line {reader.line_num}: the lines "
                          "between are not read as rows; close the quote or take the line break out of the field")
            continue
        yield reader.line_num, cells


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise Refused(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    number = 0
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise Refused(f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet else book.worksheets[0]
        merged = _merged_ranges(book, ws)
        if merged:
            raise Refused(f"{path.name}: sheet {ws.title!r} has merged cells ({', '.join(merged[:5])}): "
                          "unmerge them, one value per cell, and save again")
        for number, cells in enumerate(ws.iter_rows(), start=1):
            yield number, [_xlsx_text(c) for c in cells]
    except Refused:
        raise
    except Exception as exc:  # a damaged or truncated workbook fails part way
        raise Refused(f"{path.name}: cannot be read after row {number} ({type(exc).__name__}: {exc}); "
                      "the workbook may be damaged or incomplete") from None
    finally:
        book.close()


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z0-9:]+)"')


def _merged_ranges(book, ws) -> list[str]:
    """The merged ranges of a read-only worksheet (openpyxl does not give them in read-only mode),
    from the sheet's XML, read in pieces."""
    ranges, tail = [], b""
    with book._archive.open(ws._worksheet_path) as xml:
        while chunk := xml.read(1 << 20):
            text = tail + chunk
            matches = list(_MERGE.finditer(text))
            ranges += [m.group(1).decode() for m in matches]
            tail = text[max(len(text) - 200, matches[-1].end() if matches else 0):]
    return ranges


class Formula(str):
    """An XLSX cell that holds a formula rather than a value."""


def _xlsx_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "f":
        return Formula(str(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    return str(value)


def data_rows(path: Path, required: dict[str, tuple[str, ...]], optional: dict[str, tuple[str, ...]] = {},
              sheet: str | None = None) -> Iterator[Row | Rejection]:
    """Rows keyed by field name (not header text). A workbook is read sheet by sheet: every sheet whose
    header row has the required columns (or only `sheet`), each row named "book.xlsx:Sheet:row" when
    the workbook has more than one sheet. Refuses the file when a required column is missing, a
    column is headed twice, or it has no header. Blank rows are skipped."""
    if path.suffix.lower() == ".xlsx" and sheet is None:
        names = sheet_names(path)
        for name in layout_sheets(path, required)[0] or names[:1]:
            label = f"{path.name}:{name}" if len(names) > 1 else path.name
            yield from _sheet_data_rows(path, label, required, optional, name)
        return
    yield from _sheet_data_rows(path, path.name, required, optional, sheet)


TITLE_ROWS = 10  # rows of title text an export may put above its header row


def _sheet_data_rows(path, label, required, optional, sheet) -> Iterator[Row | Rejection]:
    columns: dict[str, int] | None = None
    fields: tuple[tuple[str, int], ...] = ()
    workbook = path.suffix.lower() == ".xlsx"  # only a workbook's cells can hold formulas
    above: list[tuple[int, list[str]]] = []  # rows with text before the header row is found
    for number, cells in _raw_rows(path, sheet):
        if isinstance(cells, str):
            if columns is None:
                raise Refused(f"{label}:{number}: {cells}")
            yield Rejection(label, number, cells)
            continue
        if not any(str(c).strip() for c in cells):
            continue
        if columns is None:
            headers = [str(c).strip() for c in cells]
            if has_layout(headers, required) or len(above) >= TITLE_ROWS:
                if not has_layout(headers, required):  # no header found: name what the first row lacks
                    number, headers = above[0]
                columns = _columns(label, number, headers, required, optional)
                fields = tuple(columns.items())
            else:
                above.append((number, headers))
            continue
        width = len(cells)
        if not workbook:  # a CSV's cells are text
            yield Row(number, {field: (cells[i].strip() if i < width else "") for field, i in fields}, (), label)
            continue
        values = {field: (cells[i] if i < width else "") for field, i in fields}
        formulas = tuple(f for f, v in values.items() if type(v) is Formula)
        yield Row(number, {f: str(v).strip() for f, v in values.items()}, formulas, label)
    if columns is None and above:
        _columns(label, above[0][0], above[0][1], required, optional)  # refuses, naming what is missing
    if columns is None:
        raise Refused(f"{label}: the file is empty")


def layout_sheets(path: Path, columns: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """A workbook's sheets whose header row has `columns`, and the others."""
    matching, others = [], []
    for name in sheet_names(path):
        (matching if has_layout(header_row(path, name, columns), columns) else others).append(name)
    return matching, others


def has_layout(headers: list[str], columns: dict[str, tuple[str, ...]]) -> bool:
    return not missing_columns(headers, columns)


def missing_columns(headers: list[str], columns: dict[str, tuple[str, ...]]) -> list[str]:
    """The first accepted name of each column that `headers` lacks."""
    lowered = {h.lower() for h in headers}
    return [names[0] for names in columns.values() if not any(n.lower() in lowered for n in names)]


def _columns(label, number, headers, required, optional) -> dict[str, int]:
    lowered = [h.lower() for h in headers]
    found, missing = {}, []
    for field, names in {**required, **optional}.items():
        present = [n for n in names if n.lower() in lowered]
        if len(present) > 1:
            raise Refused(f"{label}:{number}: both {present[0]!r} and {present[1]!r} are here, two names for "
                          "one column: which one to read is not clear; remove one")
        index = lowered.index(present[0].lower()) if present else None
        if index is not None:
            if lowered.count(lowered[index]) > 1:
                raise Refused(f"{label}:{number}: two columns are headed {headers[index]!r}: which one to "
                              "read is not clear; rename or remove one")
            found[field] = index
        elif field in required:
            missing.append(names[0])
    if missing:
        raise Refused(f"{label}:{number}: missing required column(s): {', '.join(missing)} "
                      f"(found: {', '.join(h for h in headers if h)})")
    return found
