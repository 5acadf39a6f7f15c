"""DSMManager.symbols against the fake exchange: instruments, archive-only (delisted)
symbols with their first and last days, the geo-block warning, usage errors, and that
``import dsm`` stays lazy."""

import pytest

from conftest import run_python


def test_symbols_list_instruments_and_delisted_symbols_with_days():
    import pandas as pd

    from dsm import DSMManager

    with DSMManager.create("BINANCE", "SPOT") as manager:
        df = manager.symbols(interval="1d", include_archive=True)
        assert list(df.index) == ["BCCUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LUNAUSDT"]
        bcc = df.loc["BCCUSDT"]
        assert not bcc["on_exchange"] and bcc["in_archive"]
        assert bcc["first_day"] == pd.Timestamp("2017-11-13", tz="UTC")
        assert bcc["last_day"] == pd.Timestamp("2018-11-20", tz="UTC")
        assert pd.isna(bcc["status"])
        assert df.loc["LUNAUSDT", "status"] == "BREAK"
        assert isinstance(df["first_day"].dtype, pd.DatetimeTZDtype)
        assert str(df["first_day"].dtype.tz) == "UTC"
        assert df.attrs["warnings"] == []

        only = manager.symbols()
        assert "BCCUSDT" not in only.index and len(only) == 5
        assert not only["in_archive"].any(), "the archive was not listed"

    with DSMManager.create("BINANCE", "UM") as um:
        df = um.symbols()
        btc = df.loc["BTCUSDT"]
        assert btc["contract_type"] == "PERPETUAL"
        assert pd.isna(btc["delivery"]), "the 2100 sentinel is no delivery date"
        assert btc["listed"] == pd.Timestamp("2017-01-01", tz="UTC")


def test_a_geo_blocked_rest_is_a_warning_when_the_archive_answers(fake_url, tmp_path, monkeypatch):
    # A second fake, REST geo-blocked (the session's fake stays as it is).
    import subprocess

    from conftest import binary

    proc = subprocess.Popen([binary("fake-exchange"), "--port", "0", "--geo-block"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        for var in ("DSM_BINANCE_URL", "DSM_BINANCE_UM_URL", "DSM_BINANCE_CM_URL",
                    "DSM_BINANCE_VISION_URL", "DSM_BINANCE_VISION_LISTING_URL"):
            monkeypatch.setenv(var, url)
        from dsm import DSMManager, FetchError

        with DSMManager.create("BINANCE", "UM") as manager:
            with pytest.warns(RuntimeWarning, match="HTTP 451"):
                df = manager.symbols(interval="1d", include_archive=True)
            assert "SRMUSDT" in df.index
            assert any("HTTP 451" in w for w in df.attrs["warnings"])
            with pytest.raises(FetchError, match="HTTP 451"):
                manager.symbols(refresh=True)
    finally:
        proc.kill()
        proc.wait()


def test_bad_input_raises_invalid_input():
    from dsm import DSMManager, InvalidInputError

    with DSMManager.create("BINANCE", "SPOT") as manager:
        with pytest.raises(InvalidInputError, match="unknown kind"):
            manager.symbols(kind="fundng")
        with pytest.raises(InvalidInputError, match="has no funding"):
            manager.symbols(kind="funding")
        with pytest.raises(InvalidInputError, match="not available"):
            manager.symbols(interval="7m")


def test_import_stays_lazy_with_symbols():
    out = run_python(
        """
        import json, sys, dsm
        m = dsm.DSMManager.create("BINANCE", "SPOT")
        assert callable(m.symbols)
        heavy = [n for n in ("pandas", "numpy", "pyarrow", "polars") if n in sys.modules]
        print(json.dumps(heavy))
        """
    )
    assert out == [], out
