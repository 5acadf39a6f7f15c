"""The lazy-initialization note's import tests: `import dsm` is pure Python, loads no
native code and no heavy library, works in any import order (scipy included), and does
the heavy work only when data is asked for. Each runs in a fresh interpreter."""

import pytest

from conftest import MAPS

HEAVY = ("pandas", "polars", "pyarrow", "numpy", "scipy", "dsm._native")


def test_import_loads_no_native_code_and_no_heavy_library(fresh):
    out = fresh(
        "import os, sys, json\n" + MAPS + """
before = set(sys.modules)
import dsm
from dsm import DSMManager, DSMConfig, fetch_market_data
new = sorted(set(sys.modules) - before)
print(json.dumps({"new": new, "mapped": mapped(),
                  "heavy": [m for m in sys.modules if m.split('.')[0] in ('pandas', 'polars', 'pyarrow', 'numpy', 'scipy') or m == 'dsm._native']}))
"""
    )
    assert out["mapped"] == [], out
    assert out["heavy"] == [], out
    # Only dsm's own pure-Python modules are new (no threading, enum, datetime, ...).
    assert all(m == "dsm" or m.startswith("dsm.") for m in out["new"]), out["new"]


def test_import_speed_is_pure_python(fresh):
    """Import speed, checked by what is done (no timing assertion): the import runs no
    native code, so its cost is a handful of small .py files."""
    out = fresh(
        """
import sys, json
import dsm
files = [m.__file__ for name, m in sys.modules.items() if name.startswith('dsm') and getattr(m, '__file__', None)]
print(json.dumps(files))
"""
    )
    assert out and all(f.endswith(".py") for f in out), out


def test_memory_at_import(fresh):
    """Memory at import: RSS grows by less than 2 MiB over a bare interpreter."""
    out = fresh(
        """
import json
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
before = rss()
import dsm
from dsm import DSMManager
print(json.dumps(rss() - before))
"""
    )
    assert out < 2048, f"import dsm grew RSS by {out} KiB"


@pytest.mark.parametrize("other", ["numpy", "pandas", "polars", "pyarrow", "scipy.stats", "scipy.signal"])
@pytest.mark.parametrize("dsm_first", [True, False])
def test_import_order_independence(fresh, other, dsm_first):
    first, second = ("dsm", other) if dsm_first else (other, "dsm")
    out = fresh(
        f"""
import json
import {first}
import {second}
from dsm import DSMManager
manager = DSMManager.create("BINANCE", "SPOT")
df = manager.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
print(json.dumps(len(df)))
"""
    )
    assert out == 24


def test_import_after_scipy():
    """Verify DSM works after scipy (original hanging issue)."""
    import scipy.stats  # This used to cause hanging
    import scipy.signal

    # This should be fast now
    from dsm import DSMManager
    manager = DSMManager.create("BINANCE", "SPOT")

    assert manager is not None  # ✅ No hanging!


def test_create_maps_no_plugin_and_first_fetch_maps_exactly_one(fresh):
    out = fresh(
        "import os, json\n" + MAPS + """
import dsm
after_import = mapped()
managers = [dsm.DSMManager.create(p, m) for p, m in [("BINANCE", "SPOT"), ("OKX", "SPOT"), ("BYBIT", "LINEAR")]]
after_create = mapped()
loaded_before = managers[0].is_loaded
managers[0].fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02")
print(json.dumps({"import": after_import, "create": after_create, "fetch": mapped(),
                  "loaded_before": loaded_before, "loaded_after": managers[0].is_loaded,
                  "okx_loaded": managers[1].is_loaded, "opened": [p for p, _, _ in dsm.loaded_plugins()]}))
"""
    )
    assert out["import"] == []
    assert out["create"] == ["_native.abi3.so"], out
    assert out["fetch"] == ["_native.abi3.so", "libdsm_binance.so"], out
    assert out["opened"] == ["binance"]
    assert (out["loaded_before"], out["loaded_after"], out["okx_loaded"]) == (False, True, False)


def test_enums_come_from_the_manifests_and_load_no_plugin(fresh):
    out = fresh(
        "import os, json\n" + MAPS + """
from dsm import DataProvider, MarketType
import dsm
print(json.dumps({"providers": [p.name for p in DataProvider],
                  "markets": sorted(MarketType.__members__),
                  "alias": MarketType("FUTURES_USDT").value, "ci": DataProvider("binance").name,
                  "listing": sorted(p["id"] for p in dsm.list_providers()),
                  "mapped": mapped()}))
"""
    )
    assert out["providers"] == ["BINANCE", "BYBIT", "OKX"]
    for m in ["SPOT", "UM", "CM", "SWAP", "LINEAR", "INVERSE", "FUTURES_USDT", "FUTURES_COIN", "USDM", "PERP"]:
        assert m in out["markets"], (m, out["markets"])
    assert out["alias"] == "um" and out["ci"] == "BINANCE"
    assert out["listing"] == ["binance", "bybit", "okx"]
    assert out["mapped"] == ["_native.abi3.so"], out
