#!/usr/bin/env python3
"""Ingest → committed latency of a sluice silver table, exactly, from the table itself (for test/bench/compare):
each row's `_ingest_time` (stamped by the collector) against the commitInfo timestamp of the Delta commit that
added its file.

    commit_latency.py TABLE_PATH [--since-us EPOCH_MICROS]

Only rows with _ingest_time >= since count. Prints {"rows", "p50", "p90", "p99", "max"} in seconds.
"""
import json
import os
import sys

import pyarrow.compute as pc
import pyarrow.parquet as pq
from urllib.parse import unquote


def main(argv):
    root = argv[1]
    since = int(argv[argv.index("--since-us") + 1]) if "--since-us" in argv else 0
    log = os.path.join(root, "_delta_log")
    lags = []
    for name in sorted(os.listdir(log)):
        if not name.endswith(".json"):
            continue
        ts, adds = None, []
        with open(os.path.join(log, name), encoding="utf-8") as f:
            for line in f:
                a = json.loads(line)
                if "commitInfo" in a:
                    ts = a["commitInfo"].get("timestamp")
                elif "add" in a:
                    adds.append(unquote(a["add"]["path"]))
        if ts is None:
            continue
        for path in adds:
            col = pq.read_table(os.path.join(root, path), columns=["_ingest_time"]).column(0)
            us = pc.cast(col, "int64").to_pylist()
            lags.extend((ts * 1000 - u) / 1e6 for u in us if u >= since)
    lags.sort()
    q = lambda p: round(lags[min(len(lags) - 1, int(p * len(lags)))], 3) if lags else None
    print(json.dumps({"rows": len(lags), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": q(1.0)}), flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)
