"""`s75 export LEDGER --out DIR [--date D]`: the pool's position and monthly actuals as Parquet.

One file per table of reports.frames, named by the pool's ID: DIR/<pool>.<table>.parquet (for
example EB-BCF.schemes.parquet), written all together or not at all (reports.atomic_files). Money
is decimal128(18, 2), never float; each file's metadata carries `s75.schema_version`, `s75.table`
and `s75.pool_id`, each column its description; the pool table has a schema_version column too.
docs/analysis.md documents the schema; `s75 consolidate` reads any number of pools' files.
"""
from __future__ import annotations

import sys

import pyarrow as pa
import pyarrow.parquet as pq

from reports.frames import COLUMNS, SCHEMA_VERSION, TABLES, latest_lock, position_frames
from rules.position import PoolPosition

ARROW = {
    "text": pa.string(),
    "int": pa.int32(),
    "bool": pa.bool_(),
    "money": pa.decimal128(18, 2),
    "percent": pa.decimal128(7, 2),
    "number": pa.decimal128(24, 6),
    "date": pa.date32(),
}
SUFFIX = ".parquet"


class ExportError(Exception):
    """A figure that cannot be written exactly in its column's type."""


def file_name(pool_id: str, table: str) -> str:
    return f"{pool_id}.{table}{SUFFIX}"


def schema(table: str, pool_id: str) -> pa.Schema:
    fields = [pa.field(name, ARROW[kind], metadata={"description": text, "kind": kind})
              for name, kind, text in COLUMNS[table]]
    return pa.schema(fields, metadata={"s75.schema_version": str(SCHEMA_VERSION), "s75.table": table,
                                       "s75.pool_id": pool_id})


def export_files(position: PoolPosition, locked_through: str | None = None) -> dict[str, bytes]:
    """{file name: Parquet bytes} for every table of the position."""
    frames = position_frames(position, locked_through)
    pool_id = position.pool.id
    files = {}
    for table in TABLES:
        frame, arrow_schema = frames[table], schema(table, pool_id)
        arrays = []
        for field in arrow_schema:
            try:
                arrays.append(pa.array(frame[field.name], type=field.type, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ExportError(f"{table}.{field.name} cannot be written exactly as {field.type}: {exc}") from None
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_arrays(arrays, schema=arrow_schema), sink)
        files[file_name(pool_id, table)] = sink.getvalue().to_pybytes()
    return files


def run_export(args) -> int:
    from s75.cli import ledger_position
    from s75.returns_common import write_folder
    found = ledger_position(args, refused="nothing exported")
    if found is None:
        return 1
    loaded, position = found
    as_of = position.as_of
    try:
        files = export_files(position, latest_lock(loaded.entries))
    except ExportError as exc:
        print(f"{args.ledger}: {exc}; nothing exported", file=sys.stderr)
        return 1
    written = write_folder("s75 export", args.out, files, "export's")
    if written is None:
        return 1
    print(f"exported {position.pool.id} {position.year.label} to {as_of} ({len(written)} files in {args.out}):")
    for path in written:
        print(f"wrote {path}")
    return 0
