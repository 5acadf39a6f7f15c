"""dsm: verified historical crypto market data from Binance, OKX and Bybit: klines,
funding rates, mark/index prices, trades, open interest.

    from dsm import DSMManager
    with DSMManager.create("BINANCE", "SPOT") as manager:     # instant: no I/O, no plugin
        df = manager.fetch_market_data(symbol="BTCUSDT", interval="1m",
                                       start_time="2024-01-01", end_time="2024-01-02")

``import dsm`` is pure Python and imports nothing heavy: the native library loads on the
first ``DSMManager.create``, an exchange plugin on the first fetch that needs the network,
pandas / polars / pyarrow only when a result of that kind is asked for.

- :class:`DSMManager`: ``create``, ``create_with_config``, ``fetch_market_data`` (pandas,
  ``return_polars=True``, ``return_arrow=True``), ``fetch_table`` (Arrow C stream),
  ``iter_market_data`` (a batch per day), ``last_report``, ``cancel``, ``close``.
- :class:`DSMConfig`: ``for_production``, ``for_development``, ``from_env``.
- :func:`fetch_market_data`: the one-call form.
- ``DataProvider``, ``MarketType``: enums of what the installed plugins offer (built on
  first access).
- Errors: :class:`DSMError`, :class:`InvalidInputError` (a ValueError),
  :class:`FetchError`, :class:`CancelledError`.
"""

__version__ = "0.1.0"

# Every public name and the module that defines it. The modules are imported on first
# access of a name (module __getattr__), so `import dsm` runs this file alone.
_WHERE = {
    "DSMManager": "_manager",
    "PeriodData": "_manager",
    "fetch_market_data": "_manager",
    "DSMConfig": "_config",
    "last_report": "_report",
    "FetchReport": "_report",
    "Gap": "_report",
    "DSMError": "_errors",
    "InvalidInputError": "_errors",
    "FetchError": "_errors",
    "CancelledError": "_errors",
}

__all__ = [
    "DSMManager",
    "DSMConfig",
    "DataProvider",
    "MarketType",
    "fetch_market_data",
    "list_providers",
    "loaded_plugins",
    "last_report",
    "FetchReport",
    "Gap",
    "PeriodData",
    "DSMError",
    "InvalidInputError",
    "FetchError",
    "CancelledError",
]


def __getattr__(name):
    where = _WHERE.get(name)
    if where is not None:
        value = getattr(__import__(f"{__name__}.{where}", fromlist=[name]), name)
    elif name in ("DataProvider", "MarketType"):
        # The enums come from the installed plugins' manifests: built on first access.
        from . import _enums

        value = _enums.get(name)
    else:
        raise AttributeError(f"module 'dsm' has no attribute {name!r}")
    globals()[name] = value  # later accesses are plain attribute lookups
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def list_providers():
    """Every installed provider, from manifests alone (no plugin is loaded): a list of
    dicts {id, name, path, markets: [{id, aliases, intervals, symbol_example}]}."""
    from ._load import native, plugin_dirs

    return native().list_providers(plugin_dirs())


def loaded_plugins():
    """The plugin libraries this process has opened: (provider, path, times opened)."""
    from ._load import native

    return native().loaded_plugins()
