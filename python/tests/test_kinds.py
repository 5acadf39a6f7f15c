"""Data kinds beyond klines from Python: the same values as the dsm CLI, in the kind's
columns, as pandas (indexed by the time), polars or Arrow; gaps reported; a kind a market
lacks is a clear error."""

import csv
import datetime as dt
import io
import subprocess

import pytest

from dsm import DSMManager, InvalidInputError

from conftest import binary

UTC = dt.timezone.utc


def cli_csv(args, env):
    out = subprocess.run([binary("dsm"), "fetch", "--no-cache", "-q", *args], env=env,
                         capture_output=True, text=True, check=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def test_funding_rates_equal_the_cli_and_have_a_utc_time_index(dsm_env):
    m = DSMManager.create("BINANCE", "UM", use_cache=False)
    df = m.fetch_funding_rates("ETHUSDT", "2024-02-01", "2024-04-01")
    rows = cli_csv(["-p", "binance", "-m", "um", "-s", "ETHUSDT", "--kind", "funding",
                    "--start", "2024-02-01", "--end", "2024-04-01"], dsm_env)
    assert len(df) == len(rows) > 100
    assert df.index.name == "funding_time" and str(df.index.tz) == "UTC"
    assert [int(r["funding_time"]) for r in rows] == [int(t.timestamp() * 1000) for t in df.index]
    assert [float(r["funding_rate"]) for r in rows] == df["funding_rate"].tolist()
    # The archive states each settlement's interval; March 2024 changes it.
    assert set(df["funding_interval_hours"]) > {8.0}
    assert list(df.columns) == ["funding_rate", "mark_price", "funding_interval_hours"]
    assert m.last_report.gaps == []


def test_mark_candles_as_polars_and_arrow(dsm_env):
    import polars as pl
    import pyarrow as pa
    m = DSMManager.create("BINANCE", "UM")
    pldf = m.fetch_data("mark", "BTCUSDT", "2024-01-01", "2024-01-02", interval="1h", return_polars=True)
    table = m.fetch_data("mark", "BTCUSDT", "2024-01-01", "2024-01-02", interval="1h", return_arrow=True)
    assert isinstance(pldf, pl.DataFrame) and isinstance(table, pa.Table)
    assert pldf.height == table.num_rows == 24
    assert pldf["volume"].sum() == 0
    assert table.schema.metadata[b"kind"] == b"mark"


def test_a_kind_the_market_lacks_names_where_it_is(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    with pytest.raises(InvalidInputError, match="um, cm"):
        m.fetch_funding_rates("BTCUSDT", "2024-01-01", "2024-01-02")
    with pytest.raises(InvalidInputError, match="unknown kind"):
        m.fetch_data("candlesticks", "BTCUSDT", "2024-01-01", "2024-01-02")
    with pytest.raises(InvalidInputError, match="needs an interval|interval"):
        DSMManager.create("BINANCE", "UM").fetch_data("mark", "BTCUSDT", "2024-01-01", "2024-01-02")
