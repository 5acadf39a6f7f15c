#!/usr/bin/env python3
"""Spark over a dataset `dsm export` wrote (issue 14): count and a group-by per symbol.

Run by `dsm-bench --only spark` over the export scenario's dataset (50 series x 31 days of
1m, 2,232,000 candles); by hand over any klines dataset:

    pip install pyspark          # and a Java runtime (17 or later) on the PATH
    python3 bench/spark_bench.py --dataset DIR [--runs 5] [--scratch DIR]

PySpark in local[2] mode, bound to 127.0.0.1, no UI, its scratch in --scratch (a
temporary directory when not given, removed after). Times, with time.perf_counter():
- start-up: SparkSession.builder...getOrCreate() (the JVM and the session), once;
- count: spark.read.parquet(DIR).count() (partition discovery included);
- group-by: spark.read.parquet(DIR).groupBy("symbol").agg(count, sum(volume), max(high))
  collected;
each query --runs times after one warm-up run (the JVM's JIT), and prints one JSON line:

    {"spark": "4.0.1", "startup_s": ..., "count_s": [...], "groupby_s": [...],
     "rows": N, "groups": {"S00USDT": N, ...}}

The caller checks rows and groups against what dsm wrote.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def session(scratch):
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["SPARK_LOCAL_HOSTNAME"] = "localhost"
    # The launcher JVM spark-submit starts first gets no driver options.
    os.environ["SPARK_LAUNCHER_OPTS"] = "-XX:-UsePerfData"
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[2]").appName("dsm-spark-bench")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", scratch)
            .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
            .config("spark.driver.extraJavaOptions", f"-XX:-UsePerfData -Djava.io.tmpdir={scratch}")
            .getOrCreate())


def timed(f):
    t = time.perf_counter()
    value = f()
    return time.perf_counter() - t, value


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, help="a directory `dsm export` wrote")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each query (after 1 warm-up)")
    ap.add_argument("--scratch", help="Spark's scratch directory (default: a temporary one)")
    args = ap.parse_args()
    if not os.path.isdir(args.dataset):
        sys.exit(f"spark_bench.py: {args.dataset} is not a directory (run `dsm export --dataset` first)")
    if shutil.which("java") is None:
        sys.exit("spark_bench.py: PySpark needs a Java runtime (17 or later) on the PATH")
    scratch = args.scratch or tempfile.mkdtemp(prefix="dsm-spark-bench-")
    try:
        import pyspark
        from pyspark.sql import functions as F

        startup_s, spark = timed(lambda: session(scratch))
        spark.sparkContext.setLogLevel("ERROR")
        path = args.dataset

        def count():
            return spark.read.parquet(path).count()

        def groupby():
            df = spark.read.parquet(path)
            rows = (df.groupBy("symbol")
                    .agg(F.count("*").alias("n"), F.sum("volume"), F.max("high"))
                    .collect())
            return {r["symbol"]: r["n"] for r in rows}

        counts, groups_t = [], []
        rows, groups = None, None
        for i in range(args.runs + 1):
            t, rows = timed(count)
            g, groups = timed(groupby)
            if i > 0:
                counts.append(t)
                groups_t.append(g)
        spark.stop()
        print(json.dumps({"spark": pyspark.__version__, "startup_s": startup_s,
                          "count_s": counts, "groupby_s": groups_t, "rows": rows,
                          "groups": groups}))
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
