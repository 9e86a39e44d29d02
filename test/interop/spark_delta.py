#!/usr/bin/env python3
"""Apache Spark + delta-spark on Delta tables, for test/interop/spark.test.ts (interop with the reference engine).

A Spark session takes 10-20 s to start, so `check` runs many operations in one session. Usage:

    spark_delta.py read TABLE [--limit N]          # what Spark reads (see `read` below)
    spark_delta.py write TABLE KIND                # Spark creates a table (KIND: partitioned)
    spark_delta.py append TABLE ROWS_JSON_FILE     # Spark appends rows (our row representation, see below)
    spark_delta.py check SPEC_JSON_FILE            # several ops in one session: {"ops": [{"op": "read", ...}, ...]}

Every op may carry "conf": {spark.sql.* key: value}, set for that op only. Ops of `check` (each answers {"ok": true, ...} or {"ok": false, "error": "..."}; one failing op does not stop the rest):
    {"op": "read", "table": PATH, "limit"?: N, "where"?: [SQL predicate, ...]}
        -> {"version", "count", "columns": [[name, type]], "rows": [...], "detail": {...}, "where": {pred: count}}
    {"op": "write", "table": PATH, "kind": "partitioned"}  -> {"version", "rows": the rows written}
    {"op": "append", "table": PATH, "rows": [...]}         -> {"version"}
    {"op": "sql", "views": {NAME: PATH}, "query": SQL}     -> {"columns", "rows"}

Row representation in and out: timestamps as ISO-8601 UTC strings with microseconds ("2024-01-02T03:04:05.678901Z"),
dates as "YYYY-MM-DD", longs/ints/doubles as JSON numbers, strings, booleans, null. Rows are sorted by `id` when the
table has one. The JVM, the Python process and the Spark session all run in UTC.
"""
import datetime
import json
import os
import sys
import time
import traceback

os.environ["TZ"] = "UTC"
time.tzset()

EPOCH_TS = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
ISO_FMT = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"


def log(msg):
    print(f"[spark_delta] {msg}", file=sys.stderr, flush=True)


def make_spark():
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    tz = "-Duser.timezone=UTC"
    builder = (
        SparkSession.builder.master("local[1]")
        .appName("sluice-spark-interop")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", tz)
        .config("spark.executor.extraJavaOptions", tz)
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        # Delta rebuilds snapshot state with 50 shuffle partitions by default: minutes on local[1] for tiny tables.
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "sluice-spark-warehouse"))
        # Where Ivy caches the io.delta jars it fetches from Maven Central at first start.
        .config("spark.jars.ivy", os.environ.get("SLUICE_IVY_DIR", os.path.expanduser("~/.ivy2")))
    )
    t0 = time.time()
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    log(f"Spark {spark.version} up in {time.time() - t0:.1f}s")
    return spark


def jsonable_df(df):
    """Top-level timestamps/dates rendered as ISO strings by Spark itself (session zone UTC), so no Python tz conversion."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, TimestampType

    cols = []
    for f in df.schema.fields:
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, TimestampType):
            c = F.date_format(c, ISO_FMT)
        elif isinstance(f.dataType, DateType):
            c = F.date_format(c, "yyyy-MM-dd")
        cols.append(c.alias(f.name))
    return df.select(cols)


def plain(v):
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v


def collect_rows(df, limit=None):
    if "id" in df.columns:
        df = df.orderBy("id")
    out = jsonable_df(df)
    if limit is not None:
        out = out.limit(limit)
    return [{k: plain(v) for k, v in r.asDict().items()} for r in out.collect()]


def table_version(spark, path):
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, path).history(1).select("version").collect()[0][0]


def op_read(spark, spec):
    path = spec["table"]
    df = spark.read.format("delta").load(path)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0].asDict()
    out = {
        "version": table_version(spark, path),
        "count": df.count(),
        "columns": [[f.name, f.dataType.simpleString()] for f in df.schema.fields],
        "rows": collect_rows(df, spec.get("limit", 100_000)),
        "detail": {
            "partitionColumns": list(detail["partitionColumns"]),
            "numFiles": detail["numFiles"],
            "minReaderVersion": detail["minReaderVersion"],
            "minWriterVersion": detail["minWriterVersion"],
        },
    }
    # Filtered counts: partition pruning and data skipping on our stats (a wrong min/max silently drops rows here).
    out["where"] = {p: df.where(p).count() for p in spec.get("where", [])}
    return out


def schema_of_kind(kind):
    from pyspark.sql.types import (BooleanType, DateType, DoubleType, IntegerType, LongType, StringType, StructField,
                                   StructType, TimestampType)

    if kind != "partitioned":
        raise ValueError(f"unknown kind {kind!r} (known: partitioned)")
    return StructType([
        StructField("id", LongType(), False),
        StructField("s", StringType(), True),
        StructField("l", LongType(), True),
        StructField("i", IntegerType(), True),
        StructField("d", DoubleType(), True),
        StructField("b", BooleanType(), True),
        StructField("t", TimestampType(), True),
        StructField("day", DateType(), True),
        StructField("p", StringType(), True),
    ]), ["p", "day"]


# Rows of the `partitioned` kind, in the JSON row representation (see the module doc).
PARTITIONED_ROWS = [
    {"id": 1, "s": "héllo", "l": 2**40, "i": 7, "d": 1.5, "b": True, "t": "2024-01-02T03:04:05.678901Z", "day": "2024-01-02", "p": "a b"},
    {"id": 2, "s": None, "l": None, "i": None, "d": None, "b": None, "t": None, "day": None, "p": None},
    {"id": 3, "s": "", "l": -1, "i": -2147483648, "d": -0.25, "b": False, "t": "1969-12-31T23:59:59.999999Z", "day": "1969-12-31", "p": "a/b"},
    {"id": 4, "s": "z" * 40, "l": 2**53 - 1, "i": 2147483647, "d": 1e300, "b": False, "t": "1970-01-01T00:00:00.000000Z", "day": "1970-01-01", "p": "100%"},
    {"id": 5, "s": "ünïcode ✓", "l": 0, "i": 0, "d": 0.0, "b": True, "t": "1970-01-01T00:00:00.000001Z", "day": "2024-01-02", "p": "é ünï ✓"},
    {"id": 6, "s": "x", "l": -(2**53 - 1), "i": 6, "d": 6.0, "b": True, "t": "2024-01-02T03:04:05.678902Z", "day": "2024-01-02", "p": "a b"},
    {"id": 7, "s": "eq", "l": 7, "i": 7, "d": 7.0, "b": False, "t": "2038-01-19T03:14:08.000000Z", "day": "2038-01-19", "p": "x=y:z#?&"},
    {"id": 8, "s": "pct", "l": 8, "i": 8, "d": 8.5, "b": None, "t": "2024-06-30T23:59:59.999999Z", "day": "2024-06-30", "p": "%20"},
]


def to_python(value, dtype):
    from pyspark.sql.types import DateType, DoubleType, TimestampType

    if value is None:
        return None
    if isinstance(dtype, TimestampType):
        if isinstance(value, (int, float)):  # epoch µs
            return EPOCH_TS + datetime.timedelta(microseconds=int(value))
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(dtype, DoubleType):
        return float(value)
    if isinstance(dtype, DateType):
        if isinstance(value, int):  # epoch days
            return datetime.date(1970, 1, 1) + datetime.timedelta(days=value)
        return datetime.date.fromisoformat(value)
    return value


def dataframe(spark, schema, rows):
    data = [tuple(to_python(r.get(f.name), f.dataType) for f in schema.fields) for r in rows]
    return spark.createDataFrame(data, schema)


def op_write(spark, spec):
    schema, partition_by = schema_of_kind(spec["kind"])
    rows = PARTITIONED_ROWS
    dataframe(spark, schema, rows).write.format("delta").partitionBy(*partition_by).mode("errorifexists").save(spec["table"])
    return {"version": table_version(spark, spec["table"]), "rows": rows}


def op_append(spark, spec):
    path = spec["table"]
    schema = spark.read.format("delta").load(path).schema
    dataframe(spark, schema, spec["rows"]).write.format("delta").mode("append").save(path)
    return {"version": table_version(spark, path)}


def op_sql(spark, spec):
    for name, path in spec.get("views", {}).items():
        spark.read.format("delta").load(path).createOrReplaceTempView(name)
    df = spark.sql(spec["query"])
    return {"columns": [[f.name, f.dataType.simpleString()] for f in df.schema.fields], "rows": collect_rows(df)}


OPS = {"read": op_read, "write": op_write, "append": op_append, "sql": op_sql}


def run_ops(spark, ops):
    results = []
    for spec in ops:
        t0 = time.time()
        conf = spec.get("conf", {})
        try:
            for k, v in conf.items():
                spark.conf.set(k, v)
            res = {"ok": True, **OPS[spec["op"]](spark, spec)}
        except Exception as e:  # reported per op: the test shows Spark's own message
            msg = str(e)
            # Py4J errors carry the whole Java stack; keep the message lines.
            short = "\n".join(line for line in msg.splitlines() if not line.lstrip().startswith("at "))[:4000]
            res = {"ok": False, "error": f"{type(e).__name__}: {short}"}
            log(traceback.format_exc(limit=3))
        finally:
            for k in conf:
                spark.conf.unset(k)
        res["seconds"] = round(time.time() - t0, 2)
        log(f"{spec['op']} {spec.get('table', '')} -> {'ok' if res['ok'] else 'FAILED'} in {res['seconds']}s")
        results.append(res)
    return results


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "read" and len(argv) >= 3:
        limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else 100_000
        ops = [{"op": "read", "table": argv[2], "limit": limit}]
    elif cmd == "write" and len(argv) == 4:
        ops = [{"op": "write", "table": argv[2], "kind": argv[3]}]
    elif cmd == "append" and len(argv) == 4:
        with open(argv[3], encoding="utf-8") as f:
            ops = [{"op": "append", "table": argv[2], "rows": json.load(f)}]
    elif cmd == "check" and len(argv) == 3:
        with open(argv[2], encoding="utf-8") as f:
            ops = json.load(f)["ops"]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    spark = make_spark()
    try:
        results = run_ops(spark, ops)
    finally:
        spark.stop()
    out = {"spark": spark.version, "results": results} if cmd == "check" else results[0]
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if all(r["ok"] for r in results) or cmd == "check" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
