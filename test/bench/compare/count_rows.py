#!/usr/bin/env python3
"""Prints the row count of a Delta table as delta-rs reads it: count_rows.py TABLE_PATH (for test/bench/compare)."""
import os
import sys

from deltalake import DeltaTable

print(DeltaTable(sys.argv[1]).to_pyarrow_dataset().count_rows(), flush=True)
os._exit(0)  # skip delta-rs's runtime teardown, as test/interop/read_with_deltalake.py does
