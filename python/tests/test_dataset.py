"""`dsm export --dataset`: a cache filled by the real dsm binary from the fake exchange,
exported, then read without dsm by DuckDB and by PySpark (local[2], loopback only): the
same candles as `dsm fetch`, partitions pruned, a temporary file left by a killed writer
never read."""

import csv
import io
import json
import os
import shutil
import subprocess

import pytest

from conftest import ENDPOINT_VARS, binary

SERIES = [("BTCUSDT", "1h"), ("ETHUSDT", "1h"), ("BNBUSDT", "1h"), ("ETHUSDT", "1d")]
START, END = "2024-01-01", "2024-01-04"
DAY_END = {"1h": END, "1d": "2024-02-01"}
COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
           "trades", "taker_buy_base_volume", "taker_buy_quote_volume"]
LEFTOVER = ".dsm-tmp-part-0.parquet.999999999.0.tmp"


def run_dsm(env, *args):
    proc = subprocess.run([binary("dsm"), *args], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"dsm {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def exported(fake_url, tmp_path_factory):
    """A cache filled by `dsm fetch`, exported; the candles as `dsm fetch --source cache`
    prints them, per (symbol, interval)."""
    root = tmp_path_factory.mktemp("export")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSM_")}
    env.update({var: fake_url for var in ENDPOINT_VARS})
    env["DSM_CACHE_DIR"] = str(root / "cache")
    expected = {}
    for symbol, interval in SERIES:
        window = ["-p", "binance", "-m", "spot", "-s", symbol, "-i", interval,
                  "--start", START, "--end", DAY_END[interval]]
        run_dsm(env, "fetch", "-q", *window)
        out = run_dsm(env, "fetch", "-q", "--source", "cache", *window)
        expected[(symbol, interval)] = [tuple(float(r[c]) for c in COLUMNS)
                                        for r in csv.DictReader(io.StringIO(out))]
    funding_args = ["-p", "binance", "-m", "um", "-s", "BTCUSDT", "--kind", "funding",
                    "--start", START, "--end", "2024-02-01"]
    run_dsm(env, "fetch", "-q", *funding_args)
    rates = list(csv.DictReader(io.StringIO(run_dsm(env, "fetch", "-q", "--source", "cache", *funding_args))))
    ds = root / "ds"
    summary = run_dsm(env, "export", "--dataset", str(ds), "--kind", "klines")
    assert "10 files written" in summary and "manifest _dsm/manifest.json written" in summary, summary
    funding = root / "funding"
    run_dsm(env, "export", "--dataset", str(funding), "--kind", "funding")
    # What a writer killed mid-file leaves: never data for any reader.
    part = ds / "kind=klines/provider=binance/market=spot/symbol=BTCUSDT/interval=1h/date=2024-01-02"
    (part / LEFTOVER).write_bytes(b"PAR1 half a file")
    yield {"root": root, "ds": ds, "funding": funding, "env": env, "expected": expected,
           "rates": [(int(r["funding_time"]), float(r["funding_rate"])) for r in rates]}


def as_float_rows(rows):
    return [tuple(float(v) for v in r) for r in rows]


SELECT_MS = ("epoch_ms(open_time), open, high, low, close, volume, epoch_ms(close_time), "
             "quote_volume, trades, taker_buy_base_volume, taker_buy_quote_volume")


def test_export_is_idempotent_and_says_so(exported):
    out = run_dsm(exported["env"], "export", "--dataset", str(exported["ds"]), "--kind", "klines")
    assert "0 files written" in out and "10 unchanged" in out and "manifest _dsm/manifest.json unchanged" in out, out
    manifest = json.loads((exported["ds"] / "_dsm" / "manifest.json").read_text())
    periods = {(s["symbol"], s["interval"]): [p["date"] for p in s["periods"]] for s in manifest["series"]}
    assert periods == {("BNBUSDT", "1h"): ["2024-01-01", "2024-01-02", "2024-01-03"],
                       ("BTCUSDT", "1h"): ["2024-01-01", "2024-01-02", "2024-01-03"],
                       ("ETHUSDT", "1d"): ["2024-01-01"],
                       ("ETHUSDT", "1h"): ["2024-01-01", "2024-01-02", "2024-01-03"]}


def test_cli_errors_are_clear(exported, tmp_path):
    env = exported["env"]
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    for args, code, words in [
        (["--dataset", str(not_dir)], 1, "not a directory"),
        (["--dataset", str(tmp_path / "n"), "-s", "XRPUSDT"], 2, "nothing in the cache"),
        (["--dataset", str(tmp_path / "n"), "--start", "2024-02-01", "--end", "2024-01-01"], 2, "not before"),
        (["--dataset", str(tmp_path / "n"), "--kind", "candlesticks"], 2, "unknown kind"),
    ]:
        proc = subprocess.run([binary("dsm"), "export", *args], env=env, capture_output=True, text=True)
        assert proc.returncode == code and words in proc.stderr, (args, proc.returncode, proc.stderr)
    assert not (tmp_path / "n").exists()


def test_duckdb_reads_exactly_the_candles_dsm_fetched(exported):
    import duckdb
    con = duckdb.connect()
    glob = f"{exported['ds']}/**/*.parquet"
    for (symbol, interval), want in exported["expected"].items():
        got = con.execute(
            f"SELECT {SELECT_MS} FROM read_parquet(?, hive_partitioning=true) "
            "WHERE symbol = ? AND interval = ? ORDER BY open_time", [glob, symbol, interval]).fetchall()
        assert as_float_rows(got) == want and len(want) in (72, 31), (symbol, interval)
    total = con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning=true)", [glob]).fetchone()[0]
    assert total == sum(len(v) for v in exported["expected"].values())
    described = con.execute(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning=true))",
        [glob]).fetchall()
    types = dict(described)
    assert types["open_time"] == types["close_time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["date"] == "DATE" and types["symbol"] == "VARCHAR" and types["trades"] == "BIGINT"
    # The files' columns and the partition columns from the paths, each once.
    assert sorted(name for name, _ in described) == sorted(
        COLUMNS + ["kind", "provider", "market", "symbol", "interval", "date"])


def test_duckdb_prunes_partitions(exported, tmp_path):
    import duckdb
    # A copy whose other BTCUSDT day is garbage: a query that read it would fail.
    ds = tmp_path / "ds"
    shutil.copytree(exported["ds"], ds)
    bad = ds / "kind=klines/provider=binance/market=spot/symbol=BTCUSDT/interval=1h/date=2024-01-03/part-0.parquet"
    bad.write_bytes(b"not parquet at all")
    con = duckdb.connect()
    glob = f"{ds}/**/*.parquet"
    pruned = ("SELECT count(*) FROM read_parquet(?, hive_partitioning=true) "
              "WHERE symbol = 'BTCUSDT' AND date = DATE '2024-01-02'")
    assert con.execute(pruned, [glob]).fetchone()[0] == 24
    with pytest.raises(duckdb.Error):
        con.execute("SELECT count(*) FROM read_parquet(?, hive_partitioning=true) WHERE symbol = 'BTCUSDT'",
                    [glob]).fetchone()
    plan = "\n".join(str(r[1]) for r in con.execute("EXPLAIN ANALYZE " + pruned, [glob]).fetchall())
    if "Total Files Read" in plan:  # DuckDB's profile names the files it opened
        assert "Total Files Read: 1" in plan, plan


def test_duckdb_reads_funding_times_as_utc_timestamps(exported):
    import duckdb
    con = duckdb.connect()
    glob = f"{exported['funding']}/**/*.parquet"
    got = con.execute("SELECT epoch_ms(funding_time), funding_rate FROM read_parquet(?, hive_partitioning=true) "
                      "WHERE symbol = 'BTCUSDT' ORDER BY funding_time", [glob]).fetchall()
    assert got == exported["rates"] and len(got) > 80
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                             "read_parquet(?, hive_partitioning=true))", [glob]).fetchall())
    assert types["funding_time"] == "TIMESTAMP WITH TIME ZONE" and "interval" not in types


def test_spark_reads_the_same_rows_with_partition_discovery(exported, spark):
    df = spark.read.parquet(str(exported["ds"]))
    assert {"kind", "provider", "market", "symbol", "interval", "date"} <= set(df.columns)
    assert dict(df.dtypes)["open_time"] == "timestamp" and dict(df.dtypes)["date"] == "date"
    df.createOrReplaceTempView("klines")
    got = spark.sql(
        "SELECT symbol, interval, unix_millis(open_time), open, high, low, close, volume, "
        "unix_millis(close_time), quote_volume, trades, taker_buy_base_volume, taker_buy_quote_volume "
        "FROM klines").collect()
    by_series = {}
    for r in got:
        by_series.setdefault((r[0], r[1]), []).append(tuple(float(v) for v in r[2:]))
    assert {k: sorted(v) for k, v in by_series.items()} == exported["expected"]
    counts = {r["symbol"]: r["count"] for r in df.groupBy("symbol").count().collect()}
    assert counts == {"BTCUSDT": 72, "ETHUSDT": 72 + 31, "BNBUSDT": 72}
    # One kind's directory, with the root as basePath: `kind` stays a column.
    one = spark.read.option("basePath", str(exported["ds"])).parquet(str(exported["ds"] / "kind=klines"))
    assert "kind" in one.columns and one.count() == df.count()


def test_spark_prunes_by_partition(spark, exported):
    spark.read.parquet(str(exported["ds"])).createOrReplaceTempView("klines")
    query = "SELECT count(*) FROM klines WHERE symbol = 'BTCUSDT' AND date = DATE '2024-01-02'"
    plan = spark.sql("EXPLAIN " + query).collect()[0][0]
    assert "PartitionFilters: [" in plan and "2024-01-02" in plan.split("PartitionFilters: [")[1], plan
    assert spark.sql(query).collect()[0][0] == 24
