#!/usr/bin/env python3
"""Spark Structured Streaming + delta-spark engine of test/bench/compare (the Databricks DLT approach): a file
source over the NDJSON folder with a declared schema, trigger availableNow, writing the eventDate-partitioned
zstd Delta table. Started offline like test/interop/spark_delta.py (io.delta jars from the Ivy cache).

    spark_stream.py SPEC_JSON INPUT_DIR TABLE_PATH [--master local[1]] [--driver-memory 2g]

Prints one JSON line. cpuSeconds / peakRssBytes cover the Python driver and the JVM it starts; the figures of the
query alone exclude the session start (reported apart as startupSeconds / startupCpuSeconds).
"""
import json
import os
import shutil
import sys
import tempfile
import time

from procusage import tree_usage

os.environ["TZ"] = "UTC"
time.tzset()


def arg(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def make_spark(master, memory):
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    tz = "-Duser.timezone=UTC"
    cores = master[master.index("[") + 1:-1] if "[" in master else "1"
    builder = (
        SparkSession.builder.master(master)
        .appName("sluice-bench-compare")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", tz)
        .config("spark.sql.shuffle.partitions", cores)
        .config("spark.default.parallelism", cores)
        .config("spark.databricks.delta.snapshotPartitions", "1")
        .config("spark.sql.parquet.compression.codec", "zstd")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", memory)
        .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "sluice-spark-warehouse"))
        .config("spark.jars.ivy", os.environ.get("SLUICE_IVY_DIR", os.path.expanduser("~/.ivy2")))
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def schema_of(columns):
    """The records' JSON schema: top-level fields, nested ones (a.b) grouped into structs."""
    from pyspark.sql.types import (BooleanType, DateType, DoubleType, IntegerType, LongType, StringType, StructField,
                                   StructType, TimestampType)

    types = {"string": StringType(), "long": LongType(), "integer": IntegerType(), "double": DoubleType(),
             "boolean": BooleanType(), "timestamp": TimestampType(), "date": DateType()}
    top = {}
    for c in columns:
        head, _, tail = c["from"].partition(".")
        if tail:
            top.setdefault(head, {})[tail] = types[c["type"]]
        else:
            top[head] = types[c["type"]]
    return StructType([
        StructField(k, StructType([StructField(n, t, True) for n, t in v.items()]) if isinstance(v, dict) else v, True)
        for k, v in top.items()
    ])


def main(argv):
    spec_file, input_dir, table = argv[1], argv[2], argv[3]
    master = arg(argv, "--master", "local[1]")
    memory = arg(argv, "--driver-memory", "2g")
    with open(spec_file, encoding="utf-8") as f:
        spec = json.load(f)
    t0 = time.time()
    u0 = tree_usage()
    from pyspark.sql import functions as F

    spark = make_spark(master, memory)
    t1 = time.time()
    u1 = tree_usage()
    cols = [F.col(".".join(f"`{p}`" for p in c["from"].split("."))).alias(c["name"]) for c in spec["columns"]]
    stream = spark.readStream.schema(schema_of(spec["columns"])).json(input_dir)
    typed = stream.select(*cols).withColumn("eventDate", F.to_date(F.col(spec["eventTime"])))
    checkpoint = tempfile.mkdtemp(prefix="sluice-bench-spark-ckpt-")
    query = (typed.writeStream.format("delta").outputMode("append").option("checkpointLocation", checkpoint)
             .partitionBy(*spec["partitionBy"]).trigger(availableNow=True).start(table))
    query.awaitTermination()
    t2 = time.time()
    u2 = tree_usage()
    progress = query.recentProgress
    out = {
        "engine": f"spark {master}", "spark": spark.version,
        "wallSeconds": round(t2 - t1, 2), "cpuSeconds": round(u2["cpuSeconds"] - u1["cpuSeconds"], 2),
        "peakRssBytes": u2["peakRssBytes"], "processes": u2["processes"],
        "startupSeconds": round(t1 - t0, 2), "startupCpuSeconds": round(u1["cpuSeconds"] - u0["cpuSeconds"], 2),
        "batches": len(progress), "inputRows": sum(p.get("numInputRows", 0) for p in progress),
    }
    spark.stop()
    shutil.rmtree(checkpoint, ignore_errors=True)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)
