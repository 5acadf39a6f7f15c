"""The API of the issue and the note, run as written against the fake exchange; every
keyword reaches the library and does what it says; bad input gets a clear error."""

import datetime as dt
import os
import shutil

import pytest

import dsm
from dsm import DSMConfig, DSMManager, InvalidInputError

from proxy import Proxy, start_ms_of

DAY = 86_400_000
JAN1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def test_issue_snippets_run_as_written(dsm_env):
    from dsm import DSMManager, DSMConfig, DataProvider, MarketType, fetch_market_data
    start_time, end_time = dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)
    manager = DSMManager.create("BINANCE", "SPOT")                       # no I/O, no plugin
    manager = DSMManager.create("BINANCE", "SPOT", connection_timeout=60, max_retries=5)
    config = DSMConfig.for_production(DataProvider.BINANCE, MarketType.SPOT,
                                      connection_timeout=60, max_retries=5, connection_pool_size=20)
    config = DSMConfig.for_development(DataProvider.BINANCE, MarketType.SPOT,
                                       log_level="DEBUG", suppress_http_debug=False)
    config = DSMConfig.from_env()
    manager = DSMManager.create_with_config(config)
    with DSMManager.create("BINANCE", "SPOT") as manager:              # closes the provider
        df = manager.fetch_market_data(symbol="BTCUSDT", interval="1m",
                                       start_time=start_time, end_time=end_time)  # loads now
    assert len(df) == 1440
    with pytest.raises(dsm.DSMError, match="closed"):
        manager.fetch_market_data("BTCUSDT", "1m", start_time, end_time)
    df = fetch_market_data(provider="BINANCE", market_type="SPOT", symbol="BTCUSDT", interval="1m",
                           start_time=start_time, end_time=end_time)
    assert len(df) == 1440


def test_note_snippets_run_as_written(dsm_env):
    start_time, end_time = "2024-01-01", "2024-01-01T06:00:00Z"
    config = {"connection_timeout": 60, "max_retries": 5}
    manager = DSMManager.create("BINANCE", "SPOT", **config)
    provider, market_type = "BINANCE", "SPOT"
    config = DSMConfig.for_production(provider, market_type)
    manager = DSMManager.create_with_config(config)
    with DSMManager.create("BINANCE", "SPOT") as manager:
        data = manager.fetch_market_data(symbol="BTCUSDT", interval="1m", start_time=start_time, end_time=end_time)
    assert len(data) == 360

    def get_data():
        manager = DSMManager.create("BINANCE", "SPOT")  # Instant creation
        return manager.fetch_market_data("BTCUSDT", "1h", start_time, end_time)  # Heavy work only when needed

    assert len(get_data()) == 6
    from dsm import fetch_market_data  # Still available
    data = fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "1h", start_time, end_time)
    assert len(data) == 6


def test_presets_env_and_keywords_in_that_order(dsm_env, monkeypatch):
    prod = DSMManager.create_with_config(DSMConfig.for_production("binance", "spot")).settings
    assert (prod["request_timeout_ms"], prod["retries"], prod["pool_size"], prod["log_level"]) == (60000, 5, 20, 1)
    dev = DSMManager.create_with_config(DSMConfig.for_development("binance", "spot")).settings
    assert (dev["request_timeout_ms"], dev["retries"], dev["pool_size"], dev["log_http"]) == (15000, 2, 5, True)
    monkeypatch.setenv("DSM_RETRIES", "7")
    assert DSMManager.create_with_config(DSMConfig.for_production("binance", "spot")).settings["retries"] == 7
    assert DSMManager.create("binance", "spot", max_retries=1).settings["retries"] == 1
    monkeypatch.setenv("DSM_PROVIDER", "okx")
    monkeypatch.setenv("DSM_MARKET_TYPE", "swap")
    m = DSMManager.create_with_config(DSMConfig.from_env())
    assert (m.provider, m.market_type) == ("okx", "swap")


def test_every_keyword_reaches_the_settings(dsm_env, tmp_path):
    m = DSMManager.create(
        "BINANCE", "UM",
        connection_timeout=12.5, connect_timeout=3, max_retries=4, connection_pool_size=6,
        concurrency=2, max_retry_after=9, log_level="info", suppress_http_debug=False,
        cache_dir=tmp_path / "c", use_cache=False, enforce_source="vision",
        endpoints={"um": "http://127.0.0.1:1"}, plugin_dirs=[str(tmp_path)], allow_insecure_plugins=True,
    )
    s = m.settings
    assert s["request_timeout_ms"] == 12500 and s["connect_timeout_ms"] == 3000
    assert (s["retries"], s["pool_size"], s["concurrency"]) == (4, 6, 2)
    assert s["max_retry_after_ms"] == 9000 and s["log_level"] == 3 and s["log_http"] is True
    assert s["cache_dir"] == str(tmp_path / "c") and s["cache_enabled"] is False
    assert s["source"] == "archive" and s["endpoints"]["um"] == "http://127.0.0.1:1"
    assert s["plugin_dirs"][0] == str(tmp_path)
    assert set(DSMConfig.KEYWORDS) == {
        "connection_timeout", "connect_timeout", "max_retries", "connection_pool_size", "concurrency",
        "max_retry_after", "log_level", "suppress_http_debug", "cache_dir", "use_cache",
        "enforce_source", "endpoints", "plugin_dirs", "allow_insecure_plugins",
    }, "a new keyword needs a test here"


def test_unknown_keywords_and_values_name_the_valid_ones(dsm_env):
    with pytest.raises(InvalidInputError, match="unknown configuration keyword 'timeout'.*connection_timeout"):
        DSMManager.create("BINANCE", "SPOT", timeout=5)
    with pytest.raises(InvalidInputError, match="DEBUG, INFO, WARNING"):
        DSMConfig.for_development("BINANCE", "SPOT", log_level="LOUD")
    with pytest.raises(InvalidInputError, match="AUTO, REST, VISION, CACHE"):
        dsm.fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "1m", "2024-01-01", "2024-01-02", enforce_source="FTP")
    with pytest.raises(InvalidInputError, match="at least 0"):
        DSMManager.create("BINANCE", "SPOT", max_retries=-1)
    with pytest.raises(ValueError, match="available providers: binance, bybit, okx"):
        DSMManager.create("KRAKEN", "SPOT")
    with pytest.raises(ValueError, match="its markets: spot, um .*cm"):
        DSMManager.create("BINANCE", "OPTIONS")
    m = DSMManager.create("binance", "Spot")
    with pytest.raises(ValueError, match="available: 1s 1m"):
        m.fetch_market_data("BTCUSDT", "7m", "2024-01-01", "2024-01-02")
    with pytest.raises(ValueError, match="must be before"):
        m.fetch_market_data("BTCUSDT", "1m", "2024-01-02", "2024-01-01")
    with pytest.raises(InvalidInputError, match="not a time"):
        m.fetch_market_data("BTCUSDT", "1m", 1.5, "2024-01-01")
    with pytest.raises(InvalidInputError, match="data kinds available are: klines"):
        dsm.fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "1m", "2024-01-01", "2024-01-02", chart_type="trades")


def test_names_are_case_insensitive_and_enums_work_everywhere(dsm_env):
    from dsm import DataProvider, MarketType
    a = DSMManager.create("binance", "futures_usdt")
    b = DSMManager.create(DataProvider.BINANCE, MarketType.UM)
    c = DSMManager.create(DataProvider("Binance"), MarketType("usdm"))
    assert a.market_type == b.market_type == c.market_type == "um"


def test_times_in_every_form_give_the_same_rows(dsm_env):
    m = DSMManager.create("BINANCE", "SPOT")
    forms = [
        (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 3)),
        (dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2024-01-01T03:00:00Z"),
        (dt.date(2024, 1, 1), JAN1 + 3 * 3_600_000),
        ("2024-01-01", "2024-01-01T05:00:00+02:00"),
        (JAN1, JAN1 + 3 * 3_600_000),
    ]
    frames = [m.fetch_market_data("BTCUSDT", "1m", s, e) for s, e in forms]
    for f in frames:
        assert len(f) == 180 and f.equals(frames[0])


def test_use_cache_and_cache_dir(dsm_env, tmp_path):
    off = tmp_path / "off"
    DSMManager.create("BINANCE", "SPOT", cache_dir=off, use_cache=False).fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
    assert not off.exists()
    on = tmp_path / "on"
    m = DSMManager.create("BINANCE", "SPOT", cache_dir=on)
    m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
    files = sorted(p.name for p in (on / "binance" / "spot" / "klines" / "BTCUSDT" / "1h").iterdir())
    assert files == ["2024-01-01.arrow", "2024-01-02.arrow"]
    m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
    assert [s for _, s in m.last_report.sources] == ["cache", "cache"] and m.last_report.requests == 0


def test_enforce_source(dsm_env):
    def sources(mode):
        dsm.fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "1h", "2024-01-01", "2024-01-03",
                              enforce_source=mode, use_cache=False)
        return dsm.last_report()
    assert [s for _, s in sources("VISION").sources] == ["archive", "archive"]
    assert [s for _, s in sources("rest").sources] == ["rest", "rest"]
    cache_only = sources("CACHE")
    assert cache_only.sources == [] and cache_only.requests == 0
    assert cache_only.gaps and cache_only.gaps[0].start == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def test_connection_timeout_and_max_retries_act(dsm_env, fake_url):
    held = Proxy(fake_url, hold=lambda path: True)
    try:
        m = DSMManager.create("BINANCE", "SPOT", endpoints={"spot": held.url}, enforce_source="REST",
                              connection_timeout=0.5, max_retries=0, use_cache=False)
        with pytest.raises(dsm.FetchError, match="(?i)time"):
            m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
    finally:
        held.close()
    for retries, ok in [(0, False), (2, True)]:
        failing = Proxy(fake_url, fail=2)
        try:
            m = DSMManager.create("BINANCE", "SPOT", endpoints={"spot": failing.url}, enforce_source="REST",
                                  max_retries=retries, use_cache=False)
            if ok:
                assert len(m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")) == 24
                assert len(failing.paths) == 3
            else:
                with pytest.raises(dsm.FetchError):
                    m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
                assert len(failing.paths) == 1
        finally:
            failing.close()


def test_log_level_and_suppress_http_debug(fresh):
    code = """
import dsm
config = dsm.DSMConfig.for_development("BINANCE", "SPOT", log_level="DEBUG", suppress_http_debug={}, use_cache=False)
m = dsm.DSMManager.create_with_config(config)
m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
"""
    loud = fresh(code.format(False), expect_ok=False)
    quiet = fresh(code.format(True), expect_ok=False)
    silent = fresh(code.format(True).replace('"DEBUG"', '"ERROR"'), expect_ok=False)
    assert loud.returncode == quiet.returncode == silent.returncode == 0, loud.stderr
    assert "klines" in loud.stderr and "DEBUG" in loud.stderr, loud.stderr
    assert "/api/v3/klines" not in quiet.stderr and "DEBUG" in quiet.stderr, quiet.stderr
    assert silent.stderr == "", silent.stderr


def test_plugins_are_in_the_package_and_dsm_plugin_path_adds_more(dsm_env, tmp_path, monkeypatch):
    package_dir = os.path.join(os.path.dirname(dsm.__file__), "plugins")
    m = DSMManager.create("BINANCE", "SPOT")
    assert m.settings["plugin_path"] == os.path.join(package_dir, "libdsm_binance.so")
    extra = tmp_path / "plugins"
    extra.mkdir()
    shutil.copy(os.path.join(package_dir, "libdsm_okx.so"), extra / "libdsm_okx.so")
    monkeypatch.setenv("DSM_PLUGIN_PATH", str(extra))
    assert DSMManager.create("OKX", "SPOT").settings["plugin_path"] == str(extra / "libdsm_okx.so")
    assert DSMManager.create("BYBIT", "SPOT").settings["plugin_path"].startswith(package_dir)
