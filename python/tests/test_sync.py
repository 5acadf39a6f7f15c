"""DSMManager.sync: many series of one market into the cache, one summary row per series
(as `dsm sync`'s table), against the fake exchange; only what the cache lacks is fetched,
a failing series does not stop the others, globs expand over the listing, a lockfile."""

import pytest

from dsm import DSMManager, InvalidInputError


def test_sync_returns_a_row_per_series_and_a_second_run_reads_the_cache(dsm_env, tmp_path):
    m = DSMManager.create("BINANCE", "SPOT")
    lock = tmp_path / "py.lock"
    df = m.sync(["BTCUSDT", "ETHUSDT"], "2024-01-01", "2024-01-04", intervals=["1h", "4h"], lock=lock)
    assert list(df["series"]) == [
        "binance/spot/klines/BTCUSDT/1h",
        "binance/spot/klines/BTCUSDT/4h",
        "binance/spot/klines/ETHUSDT/1h",
        "binance/spot/klines/ETHUSDT/4h",
    ]
    assert list(df["rows"]) == [72, 18, 72, 18]
    assert list(df["archive"]) == [3, 3, 3, 3] and list(df["cache"]) == [0, 0, 0, 0]
    assert df["error"].isna().all() and (df["gaps"] == 0).all()
    text = lock.read_text()
    assert text.count('"archive"]') == 12, text
    # The same fetched from the cache only: no request.
    again = m.sync("BTCUSDT,ETHUSDT", "2024-01-01", "2024-01-04", intervals="1h,4h")
    assert list(again["cache"]) == [3, 3, 3, 3] and (again["requests"] == 0).all()
    # Each series' candles are what a plain fetch returns.
    assert len(m.fetch_market_data("ETHUSDT", "4h", "2024-01-01", "2024-01-04")) == 18


def test_a_failing_series_does_not_stop_the_others_and_polars_works(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    df = m.sync(["NOPEUSDT", "BTCUSDT"], "2016-12-31", "2017-01-02", intervals=["1h"],
                return_polars=True)
    rows = {r["symbol"]: r for r in df.to_dicts()}
    assert "symbol" in rows["NOPEUSDT"]["error"]
    assert rows["BTCUSDT"]["error"] is None and rows["BTCUSDT"]["rows"] == 24
    assert rows["BTCUSDT"]["gaps"] == 1, "the day before the listing"


def test_globs_shards_and_bad_input(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    all_ = m.sync("*USDT", "2024-01-01", "2024-01-02", intervals="1d")
    assert set(all_["symbol"]) >= {"BTCUSDT", "ETHUSDT", "BNBUSDT", "DOGEUSDT"}
    parts = [m.sync("*USDT", "2024-01-01", "2024-01-02", intervals="1d", shard=f"{k}/2") for k in (1, 2)]
    assert sorted(parts[0]["series"].tolist() + parts[1]["series"].tolist()) == sorted(all_["series"])
    with pytest.raises(InvalidInputError):
        m.sync("BTCUSDT", "2024-01-01", "2024-01-02")  # klines need intervals
    with pytest.raises(InvalidInputError):
        m.sync("BTCUSDT", "2024-01-01", "2024-01-02", intervals="1h", shard="3/2")
    with pytest.raises(InvalidInputError):
        m.sync("BTCUSDT", "2024-01-01", "2024-01-02", intervals="1h", workers=0)
