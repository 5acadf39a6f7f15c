"""The Spark fleet example (python/examples/spark_fleet.py) run as a user runs it: PySpark
local[2] distributes a universe over its executors, each syncs its series with the dsm
package into one cache in the tests' S3 server (target/debug/fake-s3), the driver exports
them into a dataset in the bucket, and Spark SQL reads it back through the example's
`dsm_dataset` data source. Everything on 127.0.0.1: the fake exchange behind a recording
proxy, the S3 server, Spark itself."""

import collections
import json
import os
import sys

import pytest

from conftest import ENDPOINT_VARS, HERE
from proxy import Proxy

sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import spark_fleet  # noqa: E402  (the example itself)

UNIVERSE = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "DOGEUSDT"]
INTERVALS = ["1h", "4h"]
START, END = "2024-01-01", "2024-01-04"
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]
CACHE, DATASET = "s3://dsm-test/fleet-cache", "s3://dsm-test/fleet-ds"
SERIES = sorted((s, i) for s in UNIVERSE for i in INTERVALS)


@pytest.fixture(scope="module")
def fleet(spark, fake_url, fake_s3):
    """The job run once: its result and every path the exchange was asked for."""
    proxy = Proxy(fake_url)
    env = {**{var: proxy.url for var in ENDPOINT_VARS}, **fake_s3["env"]}
    try:
        out = spark_fleet.run_fleet(spark, UNIVERSE, INTERVALS, START, END, cache=CACHE,
                                    dataset=DATASET, env=env, partitions=4)
    finally:
        proxy.close()
    yield {**out, "paths": list(proxy.paths)}


def bucket(fake_s3):
    return spark_fleet.open_fs(spark_fleet.s3_settings(fake_s3["env"]))


def test_executors_fetch_each_series_exactly_once(fleet):
    reports = fleet["reports"]
    assert collections.Counter((r["symbol"], r["interval"]) for r in reports) == {s: 1 for s in SERIES}
    assert len({r["partition"] for r in reports}) == 4, "the series were spread over the partitions"
    for r in reports:
        want_rows = {"1h": 72, "4h": 18}[r["interval"]]
        assert (r["error"], r["rows"], r["cache"], r["archive"] + r["rest"]) == (None, want_rows, 0, 3), r
    # The exchange's side: every day's archive file of every series asked for once, by one executor.
    zips = collections.Counter(p.split("?")[0].rsplit("/", 1)[-1] for p in fleet["paths"]
                               if p.split("?")[0].endswith(".zip"))
    assert zips == {f"{s}-{i}-{d}.zip": 1 for s, i in SERIES for d in DAYS}, zips
    # The driver's export read the cache alone.
    assert all((r["cache"], r["requests"], r["error"]) == (3, 0, None) for r in fleet["export"]), fleet["export"]
    summary = fleet["summary"]
    assert (summary["series"], summary["written"], summary["manifest_written"]) == (8, 24, True), summary


def test_the_bucket_dataset_equals_a_local_unsharded_sync(fleet, fake_s3, tmp_path):
    import pyarrow.parquet as pq

    from dsm import DSMManager

    local = tmp_path / "ds"
    m = DSMManager.create("BINANCE", "SPOT", cache_dir=tmp_path / "cache")
    m.sync(UNIVERSE, START, END, intervals=INTERVALS, dataset=local)
    assert m.last_export["written"] == 24
    fs = bucket(fake_s3)
    root = spark_fleet.bucket_path(DATASET)
    with fs.open_input_stream(f"{root}/_dsm/manifest.json") as f:
        remote_manifest = f.read()
    assert remote_manifest == (local / "_dsm" / "manifest.json").read_bytes()
    files = [p["file"] for s in json.loads(remote_manifest)["series"] for p in s["periods"]]
    assert len(files) == 24
    for file in files:
        with fs.open_input_file(f"{root}/{file}") as f:
            remote = f.read()
            f.seek(0)
            table = pq.read_table(f)
        assert remote == (local / file).read_bytes(), file
        assert table.equals(pq.read_table(local / file)) and table.num_rows in (24, 6), file
    # Nothing else in the bucket's dataset: the manifest and its files.
    on_disk = sorted(str(p.relative_to(fake_s3["bucket_dir"] / "fleet-ds"))
                     for p in (fake_s3["bucket_dir"] / "fleet-ds").rglob("*") if p.is_file())
    assert on_disk == sorted(files + ["_dsm/manifest.json"])


def test_spark_sql_counts_what_dsm_fetched(fleet, spark, fake_s3):
    from dsm import DSMManager

    df = spark_fleet.read_dataset(spark, DATASET, fake_s3["env"])
    assert {"kind", "provider", "market", "symbol", "interval", "date"} <= set(df.columns)
    assert dict(df.dtypes)["open_time"] == "timestamp" and dict(df.dtypes)["date"] == "date"
    df.createOrReplaceTempView("klines")
    got = {(r["symbol"], r["interval"]): (r["candles"], r["first"], r["last"]) for r in spark.sql(
        "SELECT symbol, interval, count(*) AS candles, unix_millis(min(open_time)) AS first, "
        "unix_millis(max(open_time)) AS last FROM klines GROUP BY symbol, interval").collect()}
    m = DSMManager.create("BINANCE", "SPOT")  # straight from the fake exchange, a fresh cache
    want, fetched = {}, {}
    for symbol, interval in SERIES:
        table = m.fetch_market_data(symbol, interval, START, END, return_arrow=True)
        times = table.column("open_time").cast("int64").to_pylist()
        want[(symbol, interval)] = (len(times), min(times), max(times))
        fetched[(symbol, interval)] = table
    assert got == want
    # Row for row, every column the two share.
    columns = [c for c in fetched[SERIES[0]].column_names if c in df.columns]
    assert {"open_time", "close", "volume", "close_time"} <= set(columns)
    select = ", ".join(f"unix_millis({c})" if dict(df.dtypes)[c] == "timestamp" else c for c in columns)
    for symbol, interval in SERIES:
        rows = spark.sql(f"SELECT {select} FROM klines WHERE symbol = '{symbol}' AND interval = '{interval}' "
                         "ORDER BY open_time").collect()
        table = fetched[(symbol, interval)]
        expect = list(zip(*[(table.column(c).cast("int64") if str(table.schema.field(c).type).startswith("timestamp")
                             else table.column(c)).to_pylist() for c in columns]))
        assert [tuple(r) for r in rows] == expect, (symbol, interval)
    # A filtered query leaves the DataFrame whole for the next one.
    assert df.where("symbol = 'BTCUSDT'").count() == 72 + 18
    assert df.count() == sum(n for n, _, _ in want.values())


def test_the_data_source_reads_only_the_files_its_options_keep(fleet, spark, fake_s3):
    from dsm import DSMManager

    # A second export of the fleet's cache, whose files of every other symbol are then
    # garbage: a query that opened one would fail.
    pruned_url = "s3://dsm-test/prune-ds"
    with spark_fleet.environment(fake_s3["env"]):
        with DSMManager.create("BINANCE", "SPOT", cache_dir=CACHE, enforce_source="CACHE") as m:
            m.sync(UNIVERSE, START, END, intervals=INTERVALS, dataset=pruned_url)
    # Made now, while every file is whole: the source reads the schema from the first one.
    one = spark_fleet.read_dataset(spark, pruned_url, fake_s3["env"], symbol="ETHUSDT", interval="1h")
    day = spark_fleet.read_dataset(spark, pruned_url, fake_s3["env"], symbol="ETHUSDT",
                                   start="2024-01-02", end="2024-01-03")
    whole = spark_fleet.read_dataset(spark, pruned_url, fake_s3["env"])
    root = fake_s3["bucket_dir"] / "prune-ds"
    spoiled = [p for p in root.rglob("part-0.parquet") if "symbol=ETHUSDT" not in str(p)]
    assert len(spoiled) == 18
    for p in spoiled:
        p.write_bytes(b"not parquet at all")
    assert one.rdd.getNumPartitions() == 3 and one.count() == 72
    assert {r[0] for r in one.select("symbol").distinct().collect()} == {"ETHUSDT"}
    assert day.rdd.getNumPartitions() == 2 and day.count() == 24 + 6
    day.createOrReplaceTempView("eth_day")
    assert spark.sql("SELECT count(*) FROM eth_day WHERE interval = '4h'").collect()[0][0] == 6
    with pytest.raises(Exception, match="bytes, the manifest says"):
        whole.count()  # every file: the spoiled ones too
