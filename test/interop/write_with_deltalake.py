#!/usr/bin/env python3
"""Creates (or appends to) a Delta table with delta-rs (`deltalake.write_deltalake`), for test/interop/spark.test.ts.

    write_with_deltalake.py TABLE_PATH SPEC_JSON_FILE

SPEC: {"columns": [{"name", "type" (Delta primitive: string long integer double boolean timestamp date),
"nullable"}], "partitionBy": [...], "mode": "error" | "append" (default "error"), "rows": [...]} with rows in the
representation of read_with_deltalake.py: timestamps as epoch µs, dates as epoch days. Prints {"version"}.
"""
import json
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

ARROW = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def main() -> int:
    path, spec_file = sys.argv[1], sys.argv[2]
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    schema = pa.schema([pa.field(c["name"], ARROW[c["type"]], c.get("nullable", True)) for c in spec["columns"]])
    # Timestamps (µs) and dates (days) go in as their integer storage, then are cast to the logical type.
    arrays = []
    for field in schema:
        values = [r.get(field.name) for r in spec["rows"]]
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
        elif pa.types.is_date32(field.type):
            arrays.append(pa.array(values, pa.int32()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    write_deltalake(path, table, partition_by=spec.get("partitionBy") or None, mode=spec.get("mode", "error"))
    json.dump({"version": DeltaTable(path).version()}, sys.stdout)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # as read_with_deltalake.py: skip delta-rs's runtime teardown
