#!/usr/bin/env python3
"""Reads a Delta table with delta-rs (the `deltalake` package) and prints what it sees as one JSON object.

Used by libs/delta/interop.test.ts to check that tables written by @sluice/delta are readable by a real
Delta implementation. Usage:

    read_with_deltalake.py TABLE_PATH [--txn APP_ID]... [--filter COL=VALUE]... [--duckdb] [--checkpoint]

Output: {"version", "rows" (count), "columns", "partitions", "files", "data" (rows: timestamps as epoch µs,
dates as epoch days, maps as {key: value} objects), "txns" {appId: version}, "stats" (delta-rs's parsed per-file min/max/nullCount),
"parquet" (physical/logical type and codec per column of one data file, from the Parquet footer),
"filtered" {filter: row count} and, with --duckdb, "duckdb" (DuckDB reading the table's Parquet files with Hive
partition parsing; every value as text, maps as JSON object text). --checkpoint makes delta-rs write a checkpoint of the table (version = current).
"""
import argparse
import datetime
import decimal
import json
import os
import sys

from deltalake import DeltaTable

EPOCH_TS = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH_DATE = datetime.date(1970, 1, 1)


def plain(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        d = v - EPOCH_TS
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds  # exact, no float
    if isinstance(v, datetime.date):
        return (v - EPOCH_DATE).days
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


def rows_with_maps_as_objects(table):
    """table.to_pylist(), but map columns as {key: value} objects (pyarrow gives a list of (key, value) tuples).

    A map with a repeated key could not be an object: it is kept as the list of pairs so a test sees it.
    """
    import pyarrow.types as pat

    rows = table.to_pylist()
    map_cols = [f.name for f in table.schema if pat.is_map(f.type)]
    for r in rows:
        for c in map_cols:
            pairs = r[c]
            if pairs is not None and len({k for k, _ in pairs}) == len(pairs):
                r[c] = {k: v for k, v in pairs}
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--txn", action="append", default=[])
    ap.add_argument("--filter", action="append", default=[], help="COL=VALUE (string compare), pushed down to delta-rs")
    ap.add_argument("--duckdb", action="store_true")
    ap.add_argument("--checkpoint", action="store_true")
    args = ap.parse_args()

    dt = DeltaTable(args.path)
    if args.checkpoint:
        dt.create_checkpoint()
        dt = DeltaTable(args.path)
    table = dt.to_pyarrow_table()
    out = {
        "reader": "deltalake " + __import__("deltalake").__version__,
        "version": dt.version(),
        "rows": table.num_rows,
        "columns": table.schema.names,
        "arrow_types": {f.name: str(f.type) for f in table.schema},
        "partitions": dt.metadata().partition_columns,
        "files": len(dt.file_uris()),
        "data": [plain(r) for r in rows_with_maps_as_objects(table)],
        "txns": {app: dt.transaction_version(app) for app in args.txn},
    }
    uris = dt.file_uris()
    if uris:
        # Physical Parquet facts of one data file: logical types and codec as a Parquet reader sees them.
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(uris[0]).metadata
        rg = meta.row_group(0) if meta.num_row_groups else None
        out["parquet"] = {
            "created_by": meta.created_by,
            "columns": {
                meta.schema.column(i).name: {
                    "physical": meta.schema.column(i).physical_type,
                    "logical": str(meta.schema.column(i).logical_type),
                    "codec": rg.column(i).compression if rg else None,
                }
                for i in range(meta.num_columns)
            },
        }
    actions = dt.get_add_actions(flatten=True)
    out["stats"] = [plain(r) for r in (actions.to_pylist() if hasattr(actions, "to_pylist") else __import__("pyarrow").table(actions).to_pylist())]
    filtered = {}
    for f in args.filter:
        col, _, val = f.partition("=")
        filtered[f] = dt.to_pyarrow_table(filters=[(col, "=", val)]).num_rows
    out["filtered"] = filtered

    if args.duckdb:
        try:
            import duckdb

            con = duckdb.connect()
            files = dt.file_uris()
            rel = con.read_parquet(files, hive_partitioning=True)
            cols = rel.columns
            # Maps as JSON objects ({"k": "v", "n": null}): DuckDB's own VARCHAR form of a map ({k=v}) is ambiguous.
            casted = ", ".join(
                f'CAST(to_json("{c}") AS VARCHAR) AS "{c}"' if str(t).startswith("MAP(") else f'CAST("{c}" AS VARCHAR) AS "{c}"'
                for c, t in zip(cols, rel.types)
            )
            rows = con.sql(f"SELECT {casted} FROM rel").fetchall()
            out["duckdb"] = {
                "reader": "duckdb " + duckdb.__version__,
                "rows": len(rows),
                "columns": cols,
                "types": {c: str(t) for c, t in zip(cols, rel.types)},
                "data": [dict(zip(cols, r)) for r in rows],
            }
        except Exception as e:  # report, do not fail: DuckDB is a secondary check
            out["duckdb"] = {"error": f"{type(e).__name__}: {e}"}

    json.dump(out, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Skip interpreter teardown: delta-rs's native runtime threads occasionally abort the process at exit
    # ("terminate called without an active exception") after the output was already complete.
    os._exit(code)
