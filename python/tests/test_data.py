"""What comes back: the reference columns, pandas / polars / Arrow through the Arrow C
interfaces, the same values as the dsm CLI, gaps and sources reported, streaming."""

import csv
import datetime as dt
import io
import subprocess

import pytest

import dsm
from dsm import DSMManager

from conftest import binary

COLUMNS = ["open", "high", "low", "close", "volume", "close_time", "quote_asset_volume", "count",
           "taker_buy_volume", "taker_buy_quote_volume"]
CLI_NAMES = {"quote_volume": "quote_asset_volume", "trades": "count", "taker_buy_base_volume": "taker_buy_volume"}
UTC = dt.timezone.utc


def cli_rows(provider, market, symbol, interval, start, end, env):
    out = subprocess.run(
        [binary("dsm"), "fetch", "-p", provider, "-m", market, "-s", symbol, "-i", interval,
         "--start", start, "--end", end, "--no-cache", "-q"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    return list(csv.DictReader(io.StringIO(out)))


@pytest.mark.parametrize("provider,market,symbol", [("binance", "spot", "BTCUSDT"), ("binance", "cm", "BTCUSD_PERP"),
                                                    ("okx", "swap", "BTC-USDT-SWAP"), ("bybit", "linear", "BTCUSDT")])
def test_pandas_equals_what_the_cli_returns(dsm_env, provider, market, symbol):
    df = DSMManager.create(provider, market, use_cache=False).fetch_market_data(symbol, "1h", "2024-01-01", "2024-01-03")
    rows = cli_rows(provider, market, symbol, "1h", "2024-01-01", "2024-01-03", dsm_env)
    assert len(df) == len(rows) == 48
    assert [int(r["open_time"]) for r in rows] == [int(t.timestamp() * 1000) for t in df.index]
    for name in ["open", "high", "low", "close", "volume", "quote_volume", "taker_buy_base_volume", "taker_buy_quote_volume"]:
        assert [float(r[name]) for r in rows] == df[CLI_NAMES.get(name, name)].tolist(), name
    assert [int(r["trades"]) for r in rows] == df["count"].tolist()
    assert [int(r["close_time"]) for r in rows] == [int(t.timestamp() * 1000) for t in df["close_time"]]


def test_pandas_has_the_reference_columns_and_a_utc_index(dsm_env):
    df = dsm.fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "1m", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 1))
    assert list(df.columns) == COLUMNS and df.index.name == "open_time"
    assert str(df.index.tz) == "UTC" and df.index[0] == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert df.index.is_monotonic_increasing and df.index.is_unique and len(df) == 60
    assert (df["close_time"] - df.index).iloc[0].total_seconds() == 59.999


def test_polars_and_arrow_carry_the_same_data(dsm_env):
    import polars as pl
    import pyarrow as pa
    m = DSMManager.create("BINANCE", "SPOT")
    pdf = m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
    pldf = m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02", return_polars=True)
    table = m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02", return_arrow=True)
    assert isinstance(pldf, pl.DataFrame) and isinstance(table, pa.Table)
    assert pldf.columns == table.column_names == ["open_time"] + COLUMNS
    assert pldf["close"].to_list() == table["close"].to_pylist() == pdf["close"].tolist()
    assert table.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.metadata[b"symbol"] == b"BTCUSDT"
    raw = m.fetch_table("BTCUSDT", "1h", "2024-01-01", "2024-01-02")  # any Arrow consumer
    assert hasattr(raw, "__arrow_c_stream__") and pa.table(raw).equals(table)


def test_polars_alone_needs_no_pyarrow_or_pandas(fresh):
    out = fresh(
        """
import json, sys
import dsm
df = dsm.DSMManager.create("BINANCE", "SPOT").fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02", return_polars=True)
print(json.dumps({"rows": df.height, "pyarrow": "pyarrow" in sys.modules, "pandas": "pandas" in sys.modules}))
"""
    )
    assert out == {"rows": 24, "pyarrow": False, "pandas": False}


def test_gaps_are_reported_never_filled(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT", enforce_source="CACHE")
    df = m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
    report = m.last_report
    assert len(df) == 0 and report.has_gaps and dsm.last_report() is report
    gap = report.gaps[0]
    assert (gap.start, gap.end) == (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 1, 3, tzinfo=UTC))
    assert "cache" in gap.reason


def test_sources_per_day(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    m.fetch_market_data("BTCUSDT", "1h", "2024-01-02", "2024-01-03")
    m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-04")
    assert m.last_report.sources == [
        (dt.datetime(2024, 1, 1, tzinfo=UTC), "archive"),
        (dt.datetime(2024, 1, 2, tzinfo=UTC), "cache"),
        (dt.datetime(2024, 1, 3, tzinfo=UTC), "archive"),
    ]
    assert m.last_report.rows == 72 and m.last_report.symbol == "BTCUSDT"


def test_iter_market_data_yields_one_arrow_batch_per_day(dsm_env):
    import pyarrow as pa
    m = DSMManager.create("BINANCE", "SPOT")
    whole = m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-04", return_arrow=True)
    batches = list(m.iter_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-04"))
    assert [b.period_start.day for b in batches] == [1, 2, 3] and [len(b) for b in batches] == [1440] * 3
    assert all(b.source == "cache" for b in batches)
    assert pa.Table.from_batches([b.to_pyarrow() for b in batches]).equals(whole.combine_chunks())
    assert batches[0].to_polars().height == 1440 and batches[0].to_pandas().index.name == "open_time"
    assert m.last_report.sources[0][1] == "cache" and m.last_report.gaps == []
    assert (m.last_report.symbol, m.last_report.interval) == ("BTCUSDT", "1m")


def test_a_result_on_huge_pages_equals_its_days(dsm_env):
    # 41 days of 1m (59,040 candles, 5.2 MB of columns): gathered into one block aligned to
    # a huge page (results of 4 MiB and more), every column at its place in it.
    import polars as pl
    import pyarrow as pa
    m = DSMManager.create("BINANCE", "SPOT")
    cold = m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-11", return_arrow=True)
    warm = m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-11", return_arrow=True)
    assert all(source == "cache" for _, source in m.last_report.sources)
    days = [b.to_pyarrow() for b in m.iter_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-11")]
    assert len(days) == 41 and warm.num_rows == cold.num_rows == 59040
    assert warm.column("open_time").num_chunks == 1
    assert pa.Table.from_batches(days).equals(warm.combine_chunks()) and warm.equals(cold)
    pldf = m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-11", return_polars=True)
    assert pldf.equals(pl.from_arrow(warm))
    pdf = m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-11")
    expected = warm.to_pandas()
    expected.index = expected.pop("open_time")
    assert pdf.equals(expected) and str(pdf.index.tz) == "UTC"


def test_breaking_out_of_a_stream_ends_it(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    stream = m.iter_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-10")
    first = next(stream)
    stream.close()
    assert len(first) == 1440
    assert len(m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-02")) == 1440


def test_a_missing_library_is_named_and_arrow_needs_none(fresh):
    out = fresh(
        """
import json, sys
sys.modules["pyarrow"] = None  # as if not installed: importing it raises ImportError
import dsm
m = dsm.DSMManager.create("BINANCE", "SPOT")
try:
    m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
    error = None
except ImportError as e:
    error = str(e)
table = m.fetch_table("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
print(json.dumps({"error": error, "rows": len(table), "capsule": type(table.__arrow_c_stream__()).__name__}))
"""
    )
    assert "pip install pyarrow" in out["error"], out
    assert out["rows"] == 24 and out["capsule"] == "PyCapsule"
