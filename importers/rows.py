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
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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


def _decode(line: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252, decided line by line so that files stream."""
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


def _csv_lines(path: Path) -> Iterator[str]:
    with open(path, "rb") as handle:
        for line in handle:
            yield _decode(line)


def header_row(path: Path, sheet: str | None = None) -> list[str]:
    """The first non-blank row of a CSV or an XLSX's sheet (default the first), stripped; [] when none."""
    for number, cells in _raw_rows(path, sheet):
        if isinstance(cells, list) and any(c.strip() for c in cells):
            return [c.strip() for c in cells]
    return []


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
    reader = csv.reader(_csv_lines(path))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"cannot read the row ({exc}); a real extract's line is far shorter"
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


def _sheet_data_rows(path, label, required, optional, sheet) -> Iterator[Row | Rejection]:
    columns: dict[str, int] | None = None
    for number, cells in _raw_rows(path, sheet):
        if isinstance(cells, str):
            if columns is None:
                raise Refused(f"{label}:{number}: {cells}")
            yield Rejection(label, number, cells)
            continue
        if not any(str(c).strip() for c in cells):
            continue
        if columns is None:
            columns = _columns(label, number, [str(c).strip() for c in cells], required, optional)
            continue
        values = {field: (cells[i] if i < len(cells) else "") for field, i in columns.items()}
        formulas = tuple(f for f, v in values.items() if isinstance(v, Formula))
        yield Row(number, {f: str(v).strip() for f, v in values.items()}, formulas, label)
    if columns is None:
        raise Refused(f"{label}: the file is empty")


def layout_sheets(path: Path, columns: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """A workbook's sheets whose header row has `columns`, and the others."""
    matching, others = [], []
    for name in sheet_names(path):
        (matching if has_layout(header_row(path, name), columns) else others).append(name)
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
        index = next((lowered.index(n.lower()) for n in names if n.lower() in lowered), None)
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


_MONEY = re.compile(r"^(-)?\(?(-)?£?\s*([0-9][0-9,]*)(?:\.([0-9]{1,2}))?\)?(-)?$")


def parse_money(text: str) -> Decimal:
    """"1,234.56", "(1,234.56)" and "1,234.56-" (negative), "£12" -> Decimal to the penny.
    ValueError for anything else, including more than two decimal places."""
    cleaned = text.replace(" ", "").replace("\u00a3", "£")
    match = _MONEY.match(cleaned)
    bracketed = cleaned.startswith("(") and cleaned.endswith(")")
    if not match or cleaned.count("(") != cleaned.count(")"):
        raise ValueError(f"amount {text!r} is not a number")
    whole, pence = match.group(3), match.group(4) or "0"
    if "," in whole and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", whole):
        raise ValueError(f"amount {text!r} has misplaced thousands separators")
    try:
        value = Decimal(whole.replace(",", "") + "." + pence.ljust(2, "0"))
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number") from None
    signs = [bool(match.group(1)), bool(match.group(2)), bool(match.group(5)), bracketed]
    if sum(signs) > 1:
        raise ValueError(f"amount {text!r} is marked negative more than once")
    return -value if any(signs) else value


def parse_date(text: str, formats: tuple[str, ...]) -> datetime.date:
    for fmt in formats:
        try:
            return datetime.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not a date ({' or '.join(f.replace('%', '') for f in formats)})")
