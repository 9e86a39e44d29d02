#!/usr/bin/env python3
"""DuckDB + delta-rs engine of test/bench/compare: DuckDB reads the NDJSON folder with a declared schema and types
the columns; delta-rs (`deltalake.write_deltalake`) writes the eventDate-partitioned zstd Delta table.

    duckdb_delta.py SPEC_JSON INPUT_DIR TABLE_PATH [--threads 1]

SPEC_JSON: {"columns": [{"name", "type", "from", "nullable"}], "eventTime", "partitionBy"} (see input.ts columnSpec).
Prints one JSON line: {"engine", "events", "wallSeconds", "cpuSeconds", "peakRssBytes", ...}.
"""
import json
import sys
import time

from procusage import tree_usage

DUCK = {"string": "VARCHAR", "long": "BIGINT", "integer": "INTEGER", "double": "DOUBLE", "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ", "date": "DATE"}


def q(name):
    return '"' + name.replace('"', '""') + '"'


def read_columns(columns):
    """read_json's `columns` argument: top-level fields, with the nested ones (a.b) grouped into STRUCTs."""
    top = {}
    for c in columns:
        head, _, tail = c["from"].partition(".")
        if tail:
            top.setdefault(head, {})[tail] = DUCK[c["type"]]
        else:
            top[head] = DUCK[c["type"]]

    def render(t):
        if isinstance(t, str):
            return t
        return "STRUCT(" + ", ".join(f"{q(k)} {render(v)}" for k, v in t.items()) + ")"

    return "{" + ", ".join(f"'{k}': '{render(v)}'" for k, v in top.items()) + "}"


def main(argv):
    spec_file, input_dir, table = argv[1], argv[2], argv[3]
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 1
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    t0 = time.time()
    u0 = tree_usage()
    import duckdb
    from deltalake import WriterProperties, write_deltalake

    con = duckdb.connect(config={"threads": threads})
    con.execute("SET TimeZone = 'UTC'")
    selects = []
    for c in spec["columns"]:
        path = ".".join(q(p) for p in c["from"].split("."))
        selects.append(f"{path} AS {q(c['name'])}")
    # The partition column from the typed event time (UTC date: the session zone is UTC).
    sql = (f"SELECT *, CAST({q(spec['eventTime'])} AS DATE) AS eventDate FROM (SELECT {', '.join(selects)} "
           f"FROM read_json('{input_dir}/*.ndjson', format = 'newline_delimited', columns = {read_columns(spec['columns'])}))")
    reader = con.sql(sql).to_arrow_reader(122_880)
    write_deltalake(table, reader, partition_by=spec["partitionBy"], mode="error",
                    writer_properties=WriterProperties(compression="ZSTD"))
    u1 = tree_usage()
    out = {"engine": "duckdb+delta-rs", "threads": threads, "duckdb": duckdb.__version__,
           "wallSeconds": round(time.time() - t0, 2), "cpuSeconds": round(u1["cpuSeconds"] - u0["cpuSeconds"], 2),
           "peakRssBytes": u1["peakRssBytes"]}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
