"""Many pools' exports (`s75 export`) consolidated with DuckDB: totals and exposures as HTML and XLSX.

`consolidate(folders)` finds each pool's Parquet files in the folders, checks that every pool's set is
complete, of a schema this code reads, and that no pool is given twice, then answers every section
with SQL over the files (DuckDB reads Parquet directly): nothing is added up in Python. Money comes
back as Decimal (DuckDB sums DECIMAL(18,2) exactly) and is written exactly: the HTML formats the
Decimal, the XLSX holds the decimal figure itself in each cell.

Sections (docs/analysis.md):
  pools      a row per pool: contributions, budget, actual, forecast outturn and variance, the risk
             share's net variance, statement month and the latest locked month
  areas      totals by year and area of spend
  types      totals by year and scheme type
  kinds      totals by year and partner kind (council, nhs), with the risk-share exposure
  exposure   each pool's forecast variance and each partner's share of it
  status     pools whose statement month is behind the latest of all the pools (late), or whose
             statement month is after the latest month locked (unlocked); a pool whose export records
             no lock is counted apart (not known)
"""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from reports.frames import SCHEMA_VERSION, TABLES

SUFFIX = ".parquet"
MONEY, TEXT, INT, PERCENT, DATE, FLAG = "money", "text", "int", "percent", "date", "flag"


class ConsolidationError(Exception):
    """The folders do not hold a consolidatable set of exports: the message says why, in one line."""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    note: str
    columns: tuple[tuple[str, str, str], ...]  # (column in the query, heading, kind)
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class Consolidation:
    folders: tuple[str, ...]
    pools: int
    latest_month: str | None
    lock_unknown: int  # pools whose export records no lock
    sections: tuple[Section, ...]
    generated: datetime.date


# Each section: key, title, note, SQL, columns. The tables `pool`, `partners`, `schemes`, ... are the
# tables of every pool's files (reports.frames.COLUMNS), stacked.
SCHEME_SUMS = """
    SELECT pool_id, count(*) AS schemes, sum(annual_budget) AS annual_budget, sum(budget_to_date) AS budget_to_date,
           sum(actual_to_date) AS actual_to_date, sum(variance_to_date) AS variance_to_date,
           sum(forecast_outturn) AS forecast_outturn, sum(forecast_variance) AS forecast_variance
    FROM schemes GROUP BY pool_id"""
PARTNER_SUMS = """
    SELECT pool_id, sum(agreed) AS agreed, sum(received) AS received, sum(outstanding) AS outstanding
    FROM partners GROUP BY pool_id"""
TOTALS = ("count(*) AS schemes, count(DISTINCT pool_id) AS pools, sum(annual_budget) AS annual_budget, "
          "sum(actual_to_date) AS actual_to_date, sum(forecast_outturn) AS forecast_outturn, "
          "sum(forecast_variance) AS forecast_variance")
SPEND_COLUMNS = (("pools", "Pools", INT), ("schemes", "Schemes", INT), ("annual_budget", "Annual budget", MONEY),
                 ("actual_to_date", "Actual to date", MONEY), ("forecast_outturn", "Forecast outturn", MONEY),
                 ("forecast_variance", "Forecast variance", MONEY))

SECTIONS = (
    ("pools", "Totals by pool",
     "Each pool's figures at its statement month. Forecast variance: positive is an overspend.",
     f"""
     WITH s AS ({SCHEME_SUMS}), p AS ({PARTNER_SUMS})
     SELECT pool.pool_id, pool_name, year, statement_month, locked_through, agreed, received, annual_budget,
            actual_to_date, forecast_outturn, forecast_variance, side, variance AS shared, unallocated
     FROM pool LEFT JOIN s USING (pool_id) LEFT JOIN p USING (pool_id)
     UNION ALL
     SELECT NULL, 'All pools, ' || year, year, NULL, NULL, sum(agreed), sum(received), sum(annual_budget),
            sum(actual_to_date), sum(forecast_outturn), sum(forecast_variance), NULL, sum(variance), sum(unallocated)
     FROM pool LEFT JOIN s USING (pool_id) LEFT JOIN p USING (pool_id) GROUP BY year
     ORDER BY year, pool_id NULLS LAST""",
     (("pool_id", "Pool", TEXT), ("pool_name", "Name", TEXT), ("year", "Year", TEXT),
      ("statement_month", "Statement month", TEXT), ("locked_through", "Locked to", TEXT),
      ("agreed", "Agreed contributions", MONEY), ("received", "Received", MONEY),
      ("annual_budget", "Annual budget", MONEY), ("actual_to_date", "Actual to date", MONEY),
      ("forecast_outturn", "Forecast outturn", MONEY), ("forecast_variance", "Forecast variance", MONEY),
      ("side", "Risk share on", TEXT), ("shared", "Variance shared", MONEY), ("unallocated", "Unallocated", MONEY))),
    ("areas", "Totals by area of spend", "Every pool's schemes, by the area of spend in their register.",
     f"""SELECT year, area, {TOTALS} FROM schemes JOIN pool USING (pool_id) GROUP BY year, area
         ORDER BY year, area""",
     (("year", "Year", TEXT), ("area", "Area of spend", TEXT)) + SPEND_COLUMNS),
    ("types", "Totals by scheme type", "Every pool's schemes, by scheme type.",
     f"""SELECT year, type, {TOTALS} FROM schemes JOIN pool USING (pool_id) GROUP BY year, type
         ORDER BY year, type""",
     (("year", "Year", TEXT), ("type", "Scheme type", TEXT)) + SPEND_COLUMNS),
    ("kinds", "Totals by partner kind",
     "Contributions, and each kind's share of the pools' variances under their risk shares (exposure: "
     "positive bears an overspend, negative receives an underspend).",
     """SELECT year, kind, count(DISTINCT pool_id) AS pools, count(*) AS partners, sum(agreed) AS agreed,
               sum(received) AS received, sum(outstanding) AS outstanding, sum(risk_share) AS exposure
        FROM partners JOIN pool USING (pool_id) GROUP BY year, kind ORDER BY year, kind""",
     (("year", "Year", TEXT), ("kind", "Partner kind", TEXT), ("pools", "Pools", INT), ("partners", "Partners", INT),
      ("agreed", "Agreed contributions", MONEY), ("received", "Received", MONEY),
      ("outstanding", "Outstanding", MONEY), ("exposure", "Risk-share exposure", MONEY))),
    ("exposure", "Forecast variance and risk-share exposure by partner",
     "Each pool's forecast variance (the sum of its schemes') and each partner's share of the variance under "
     "the pool's risk share in force at its statement month.",
     f"""
     WITH s AS ({SCHEME_SUMS})
     SELECT pool.pool_id, year, statement_month, s.forecast_variance, risk_basis, side, partner, partners.name,
            kind, share, agreed, risk_share
     FROM partners JOIN pool USING (pool_id) LEFT JOIN s USING (pool_id)
     ORDER BY year, pool_id, partners."order" """,
     (("pool_id", "Pool", TEXT), ("year", "Year", TEXT), ("statement_month", "Statement month", TEXT),
      ("forecast_variance", "Pool forecast variance", MONEY), ("risk_basis", "Basis", TEXT),
      ("side", "Side", TEXT), ("partner", "Partner", TEXT), ("name", "Partner name", TEXT),
      ("kind", "Kind", TEXT), ("share", "Share of pool %", PERCENT), ("agreed", "Agreed contributions", MONEY),
      ("risk_share", "Risk-share exposure", MONEY))),
    ("status", "Late or unlocked",
     "Late: the pool's statement month is behind the latest of all the pools. Unlocked: its statement month is "
     "after the latest month locked (s75-lock). Locked to is empty when the pool's export records no lock, "
     "so whether it is locked is not known.",
     """
     WITH latest AS (SELECT max(as_of) AS latest FROM pool),
     rows AS (
       SELECT pool_id, pool_name, year, statement_month, strftime(latest, '%Y-%m') AS latest_month,
              date_diff('month', date_trunc('month', as_of), date_trunc('month', latest)) AS months_behind,
              locked_through,
              CASE WHEN locked_through IS NULL THEN 'not known'
                   WHEN locked_through < statement_month THEN 'yes' ELSE 'no' END AS unlocked
       FROM pool, latest)
     SELECT * FROM rows WHERE months_behind > 0 OR unlocked = 'yes'
     ORDER BY months_behind DESC, pool_id""",
     (("pool_id", "Pool", TEXT), ("pool_name", "Name", TEXT), ("year", "Year", TEXT),
      ("statement_month", "Statement month", TEXT), ("latest_month", "Latest of all pools", TEXT),
      ("months_behind", "Months behind", INT), ("locked_through", "Locked to", TEXT),
      ("unlocked", "Unlocked", TEXT))),
)


def export_files(folders) -> dict[str, list[str]]:
    """{table: [file, ...]} for every pool's export in `folders` (DIR/<pool>.<table>.parquet), each pool's
    set complete. ConsolidationError when a folder is missing or holds none, or a set is incomplete."""
    files: dict[str, list[str]] = {table: [] for table in TABLES}
    for given in folders:
        folder = Path(given)
        shown = str(given).rstrip("/\\") or str(given)
        if not folder.is_dir():
            reason = "no such folder" if not folder.exists() else "not a folder"
            raise ConsolidationError(f"{shown}: {reason} (give the folders s75 export wrote into)")
        pools = sorted(p.name[:-len(f".pool{SUFFIX}")] for p in folder.glob(f"*.pool{SUFFIX}"))
        if not pools:
            raise ConsolidationError(f"{shown}: holds no pool's export (no <pool>.pool{SUFFIX}: "
                                     "write one with s75 export LEDGER --out DIR)")
        for pool in pools:
            for table in TABLES:
                path = folder / f"{pool}.{table}{SUFFIX}"
                if not path.is_file():
                    raise ConsolidationError(f"{path}: missing: {pool}'s export is incomplete (export it again)")
                files[table].append(str(path))
    return files


def _list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def consolidate(folders, generated: datetime.date | None = None) -> Consolidation:
    import duckdb
    files = export_files(folders)
    con = duckdb.connect(":memory:")
    try:
        for table, paths in files.items():
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet({_list(paths)}, union_by_name = true, "
                        "filename = true)")
        _check(con)
        latest, unknown, count = con.execute(
            "SELECT strftime(max(as_of), '%Y-%m'), count(*) FILTER (WHERE locked_through IS NULL), count(*) "
            "FROM pool").fetchone()
        sections = []
        for key, title, note, sql, columns in SECTIONS:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            index = [names.index(column) for column, _, _ in columns]
            sections.append(Section(key, title, note, columns, tuple(tuple(row[i] for i in index) for row in rows)))
    except duckdb.Error as exc:
        raise ConsolidationError(f"cannot read the exports: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return Consolidation(tuple(str(f) for f in folders), count, latest, unknown, tuple(sections),
                         generated or datetime.date.today())


def _check(con) -> None:
    """Every file of a schema this code reads; each pool once; each file's rows of its own pool."""
    newer = con.execute("SELECT filename, schema_version FROM pool WHERE schema_version > ? ORDER BY filename",
                        [SCHEMA_VERSION]).fetchone()
    if newer:
        raise ConsolidationError(f"{newer[0]}: written with schema {newer[1]}; this s75 reads schema "
                                 f"{SCHEMA_VERSION} (docs/analysis.md): update s75")
    twice = con.execute("SELECT pool_id, list(filename ORDER BY filename) FROM pool GROUP BY pool_id "
                        "HAVING count(*) > 1 ORDER BY pool_id").fetchone()
    if twice:
        raise ConsolidationError(f"pool {twice[0]} is given more than once ({', '.join(twice[1])}): give each "
                                 "pool's export once")
    for table in TABLES:
        stray = con.execute(f"SELECT filename, pool_id FROM {table} "
                            f"WHERE NOT ends_with(replace(filename, '\\', '/'), '/' || pool_id || '.{table}{SUFFIX}') "
                            "LIMIT 1").fetchone()
        if stray:
            raise ConsolidationError(f"{stray[0]}: holds rows of pool {stray[1]}, not of the pool it is named for")


# ---- HTML ----

def money(value: Decimal | None) -> str:
    """1,234.50; negatives in brackets: (1,234.50); blank for None. Formats the Decimal as it is."""
    if value is None:
        return ""
    text = f"{abs(value):,.2f}"
    return f"({text})" if value < 0 else text


def cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY:
        return money(value)
    if kind == PERCENT:
        return f"{value:.2f}"
    if kind == INT:
        return f"{value:,}"
    return str(value)


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(cell=cell)
    env.globals.update(zip=zip)
    return env


def consolidation_html(c: Consolidation) -> str:
    return _environment().get_template("consolidation/consolidation.html").render(c=c, MONEY=MONEY)


# ---- XLSX ----

MONEY_FORMAT, PERCENT_FORMAT, INT_FORMAT = "#,##0.00;[Red]-#,##0.00", "0.00", "#,##0"


def consolidation_xlsx(c: Consolidation) -> bytes:
    """A sheet per section, then Notes. Money cells hold the exact decimal figure (never a float's digits):
    openpyxl would write a Decimal through a float, so the cell's stored text is the Decimal's own."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    wb.remove(wb.active)
    for section in c.sections:
        ws = wb.create_sheet(SHEETS[section.key])
        ws.cell(1, 1, section.title).font = Font(bold=True, size=14)
        _text(ws.cell(2, 1), section.note, ILLEGAL_CHARACTERS_RE)
        for col, (_, heading, _) in enumerate(section.columns, 1):
            header = ws.cell(4, col)
            _text(header, heading, ILLEGAL_CHARACTERS_RE)
            header.font, header.fill = bold, fill
            ws.column_dimensions[get_column_letter(col)].width = max(12, min(40, len(heading) + 4))
        for r, row in enumerate(section.rows, 5):
            for col, ((_, _, kind), value) in enumerate(zip(section.columns, row), 1):
                target = ws.cell(r, col)
                if value is None:
                    continue
                if kind in (MONEY, PERCENT):
                    _exact(target, value)
                    target.number_format = MONEY_FORMAT if kind == MONEY else PERCENT_FORMAT
                elif kind == INT:
                    target.value = int(value)
                    target.number_format = INT_FORMAT
                else:
                    _text(target, value, ILLEGAL_CHARACTERS_RE)
        ws.freeze_panes = "A5"
        if section.rows:
            ws.auto_filter.ref = f"A4:{get_column_letter(len(section.columns))}{4 + len(section.rows)}"
    notes = wb.create_sheet("Notes")
    for r, line in enumerate(notes_lines(c), 1):
        _text(notes.cell(r, 1), line, ILLEGAL_CHARACTERS_RE)
    notes.column_dimensions["A"].width = 120
    stamp = datetime.datetime.combine(c.generated, datetime.time())
    wb.properties.creator = "s75"
    wb.properties.created = wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


SHEETS = {"pools": "Pools", "areas": "By area of spend", "types": "By scheme type", "kinds": "By partner kind",
          "exposure": "Exposure by partner", "status": "Late or unlocked"}


def notes_lines(c: Consolidation) -> list[str]:
    lines = [f"Consolidation of {c.pools} pool(s), made {c.generated:%d %B %Y} by s75 consolidate from the "
             f"exports in: {', '.join(c.folders)}.",
             f"The latest statement month of all the pools: {c.latest_month or 'none'}.",
             "Money is exact to the penny, as exported (decimal, never float). Positive variances are overspends."]
    if c.lock_unknown:
        lines.append(f"{c.lock_unknown} pool(s)' exports record no lock (their ledgers have no s75-lock directive): "
                     "whether their statement month is locked is not known, and Locked to is empty.")
    return lines


def _text(target, value, illegal) -> None:
    target.value = illegal.sub("", str(value))
    target.data_type = "s"  # a name beginning "=" stays text, never a formula


def _exact(target, value: Decimal) -> None:
    target.value = value  # a number cell...
    target._value = format(value, "f")  # ...whose stored figure is the Decimal's own digits
    target.data_type = "n"
