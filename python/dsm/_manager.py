"""DSMManager: a data source manager for one provider and market, and the one-call
``fetch_market_data``. Creating a manager reads plugin manifests and loads no plugin;
the plugin is opened on the first fetch that needs the network."""

import os

from ._config import DSMConfig, name_of, source_of
from ._errors import DSMError, InvalidInputError
from . import _load, _report

# Native managers a forked child inherited: their provider's threads did not survive the
# fork, so they are never dropped in the child (dropping would wait for those threads).
_INHERITED = []


class DSMManager:
    """A data source manager for one provider and market.

    >>> manager = DSMManager.create("BINANCE", "SPOT")          # no I/O, no plugin
    >>> df = manager.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-02")

    Fetches go cache -> Binance Vision style archive (published days) -> REST, validate
    every candle, cache complete days and report gaps without filling them
    (``manager.last_report``). Safe to share between threads; usable in a forked child
    (the provider is re-created there) and picklable (for spawn: the config is sent).
    """

    __slots__ = ("_config", "_native", "_pid", "last_report", "last_export", "__weakref__")

    def __init__(self, *args, **kwargs):
        raise TypeError("use DSMManager.create(provider, market_type, **config) or DSMManager.create_with_config(config)")

    @classmethod
    def create(cls, provider, market_type, **config):
        """A manager for ``provider`` and ``market_type`` (strings, case-insensitive, or
        DataProvider / MarketType members) with keyword settings (see DSMConfig)."""
        return cls.create_with_config(DSMConfig(provider, market_type, **config))

    @classmethod
    def create_with_config(cls, config):
        """A manager from a DSMConfig (e.g. ``DSMConfig.for_production(...)``)."""
        if not isinstance(config, DSMConfig):
            raise InvalidInputError(f"create_with_config takes a DSMConfig, not {type(config).__name__}")
        self = object.__new__(cls)
        self._config = config
        self._native = self._make_native()
        self._pid = os.getpid()
        self.last_report = None
        self.last_export = None
        return self

    def _make_native(self):
        c = self._config
        return _load.native().Manager(c.provider, c.market_type, c.preset, c.native_settings())

    def _handle(self):
        """This process's native manager (re-created after a fork)."""
        native = self._native
        if native is None:
            raise DSMError("this manager is closed; create a new one")
        if self._pid != os.getpid():
            _INHERITED.append(native)
            native = self._native = self._make_native()
            self._pid = os.getpid()
        return native

    @property
    def config(self):
        """The DSMConfig this manager was created from."""
        return self._config

    @property
    def provider(self):
        """The provider's id (``binance``)."""
        return self._handle().provider

    @property
    def market_type(self):
        """The market's id (``spot``, ``um``, ...), aliases resolved."""
        return self._handle().market

    @property
    def intervals(self):
        """The intervals this market offers, from the plugin's manifest."""
        return list(self._handle().intervals)

    @property
    def is_loaded(self):
        """Whether this manager has opened its plugin (its first network fetch is done)."""
        return self._handle().is_loaded

    @property
    def settings(self):
        """The settings in force (preset, environment and keywords applied)."""
        return dict(self._handle().settings())

    def fetch_table(self, symbol, interval, start_time, end_time):
        """Klines of ``[start_time, end_time)`` as a dsm Table: an Arrow C stream
        (``__arrow_c_stream__``) any Arrow library reads, with ``gaps``/``sources``."""
        from ._times import to_native

        table = self._handle().fetch(
            name_of(symbol, "symbol"),
            name_of(interval, "interval"),
            to_native(start_time, "start_time"),
            to_native(end_time, "end_time"),
        )
        report = _report.from_table(table)
        self.last_report = report
        _report.remember(report)
        return table

    def fetch_market_data(self, symbol, interval, start_time, end_time, *, return_polars=False, return_arrow=False):
        """Klines of ``symbol`` at ``interval`` over ``[start_time, end_time)``.

        Times: datetime (naive = UTC), date, ISO 8601 string or integer ms. Returns a
        pandas DataFrame indexed by ``open_time`` (UTC) with columns open high low close
        volume close_time quote_asset_volume count taker_buy_volume
        taker_buy_quote_volume; a polars DataFrame with ``return_polars=True``, a
        pyarrow Table with ``return_arrow=True`` (both with open_time as a column).
        Gaps and sources: ``manager.last_report``. Releases the GIL; Ctrl-C cancels.
        """
        from ._convert import convert

        return convert(self.fetch_table(symbol, interval, start_time, end_time), return_polars, return_arrow)

    def fetch_data(self, kind, symbol, start_time, end_time, *, interval=None,
                   return_polars=False, return_arrow=False):
        """Any data kind the market serves (``dsm providers`` lists them): ``"funding"``,
        ``"mark"``, ``"index"``, ``"premium"`` (these three need ``interval``),
        ``"agg-trades"``, ``"trades"``, ``"metrics"`` or ``"klines"``, over
        ``[start_time, end_time)``, in the kind's columns (see README "Data kinds"). A
        pandas DataFrame indexed by the first column (the time, or the trade id), a
        polars DataFrame or a pyarrow Table as for :meth:`fetch_market_data`; gaps and
        sources in ``manager.last_report``. A kind the market lacks raises
        InvalidInputError naming the markets that have it."""
        from ._convert import convert
        from ._times import to_native

        table = self._handle().fetch_kind(
            name_of(kind, "kind"),
            name_of(symbol, "symbol"),
            "" if interval is None else name_of(interval, "interval"),
            to_native(start_time, "start_time"),
            to_native(end_time, "end_time"),
        )
        report = _report.from_table(table)
        self.last_report = report
        _report.remember(report)
        return convert(table, return_polars, return_arrow)

    def symbols(self, *, kind=None, interval=None, include_archive=False, refresh=False):
        """The market's symbols as a pandas DataFrame indexed by ``symbol``: the exchange's
        instruments (status, base, quote, contract_type, listed, delivery) and, when
        ``kind`` or ``interval`` is given (or ``include_archive``), what the archive has:
        ``in_archive`` and the ``first_day`` / ``last_day`` of that kind and interval;
        ``include_archive=True`` adds the symbols only the archive knows (delisted,
        ``on_exchange`` False). Times are UTC datetimes (NaT where unknown). What failed
        without failing the listing (e.g. REST geo-blocked) is in ``df.attrs["warnings"]``
        and issued as RuntimeWarning. Kept on disk (1 h instruments, 24 h archive) unless
        ``refresh``. Same semantics as ``dsm symbols`` (README "Listing symbols")."""
        import warnings

        import pandas as pd

        columns, notes = self._handle().symbols(
            None if kind is None else name_of(kind, "kind"),
            None if interval is None else name_of(interval, "interval"),
            bool(include_archive),
            bool(refresh),
        )
        df = pd.DataFrame(columns)
        for col in ("listed", "delivery", "first_day", "last_day"):
            df[col] = pd.to_datetime(pd.array(df[col], dtype="Int64"), unit="ms", utc=True)
        df = df.set_index("symbol")
        df.attrs["warnings"] = list(notes)
        for note in notes:
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        return df

    def fetch_funding_rates(self, symbol, start_time, end_time, *, return_polars=False,
                            return_arrow=False):
        """Funding rate history of a perpetual: ``fetch_data("funding", ...)``; columns
        funding_time (index), funding_rate, mark_price, funding_interval_hours (NaN where
        the source states none)."""
        return self.fetch_data("funding", symbol, start_time, end_time,
                               return_polars=return_polars, return_arrow=return_arrow)

    def iter_market_data(self, symbol, interval, start_time, end_time):
        """The same fetch as a generator of :class:`PeriodData`, one per period (a UTC
        day; a month for 1d and longer), in order, so memory stays bounded however long
        the range. ``manager.last_report`` is set when the generator is exhausted."""
        from ._times import to_native

        stream = self._handle().stream(
            name_of(symbol, "symbol"),
            name_of(interval, "interval"),
            to_native(start_time, "start_time"),
            to_native(end_time, "end_time"),
        )
        return self._iterate(stream)

    def _iterate(self, stream):
        try:
            for batch in stream:
                yield PeriodData(batch)
            summary = stream.summary()
            if summary is not None:
                report = _report.from_summary(
                    *summary, provider=stream.provider, market_type=stream.market,
                    symbol=stream.symbol, interval=stream.interval)
                self.last_report = report
                _report.remember(report)
        finally:
            stream.close()

    def sync(self, symbols, start_time, end_time, *, intervals=None, kinds=("klines",),
             workers=4, shard=None, lock=None, dataset=None, return_polars=False):
        """Many series of this market into the cache at once, under the plugin's one rate
        budget per exchange host (``dsm sync``): ``symbols`` (names, globs such as
        ``"*USDT"``, or ``"all"``; a list or a comma-separated string) x ``kinds`` x
        ``intervals`` (for the candle kinds) over ``[start_time, end_time)``. Only what the
        cache lacks is fetched; one failing series does not stop the others. ``shard="2/4"``
        keeps that shard of the series; ``lock=PATH`` writes the lockfile there.
        ``dataset="s3://BUCKET/PREFIX"`` (or a directory) then exports exactly the synced
        series into that Parquet dataset, as ``dsm sync --dataset`` (one exporter per prefix
        at a time: nothing locks a bucket); what it did is in ``manager.last_export`` (a dict:
        series, periods, written, unchanged, bytes_written, rows_written, skipped,
        manifest_written), None without a dataset.

        Returns a pandas DataFrame (polars with ``return_polars=True``), one row per
        series: series, kind, symbol, interval, rows, cache, archive, rest (periods from
        each source), gaps, requests, error (None when the series completed).
        """
        from ._times import to_native

        def names(value, what):
            items = [value] if isinstance(value, str) else list(value or [])
            return [name_of(v, what) for v in items]

        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise InvalidInputError(f"workers must be a whole number >= 1, not {workers!r}")
        self.last_export = None
        rows, self.last_export = self._handle().sync(
            names(symbols, "symbol"),
            names(intervals, "interval"),
            names(kinds, "kind"),
            to_native(start_time, "start_time"),
            to_native(end_time, "end_time"),
            workers,
            None if shard is None else str(shard),
            None if lock is None else os.fspath(lock),
            None if dataset is None else os.fspath(dataset),
        )
        columns = ["series", "kind", "symbol", "interval", "rows", "cache", "archive", "rest",
                   "gaps", "requests", "error"]
        if return_polars:
            import polars as pl

            text, count = pl.Utf8, pl.Int64
            schema = {c: (text if c in ("series", "kind", "symbol", "interval", "error") else count)
                      for c in columns}
            return pl.DataFrame({c: [r[c] for r in rows] for c in columns}, schema=schema)
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)

    def cancel(self):
        """Stop this manager's fetches in flight (they raise CancelledError); the manager
        stays usable."""
        self._handle().cancel()

    def close(self):
        """Drop the provider (its runtime and connections). The manager cannot fetch after."""
        native, self._native = self._native, None
        if native is not None and self._pid != os.getpid():
            _INHERITED.append(native)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __reduce__(self):
        return (DSMManager.create_with_config, (self._config,))

    def __repr__(self):
        state = "closed" if self._native is None else "open"
        return f"<DSMManager {self._config.provider} {self._config.market_type} ({state})>"


class PeriodData:
    """One period's candles from ``iter_market_data``: an Arrow record batch
    (``__arrow_c_array__`` / ``__arrow_c_stream__``) with ``period_start`` (UTC datetime),
    ``source`` ("cache" | "archive" | "rest") and ``cached`` (written to the cache now)."""

    __slots__ = ("_batch", "period_start", "source", "cached")

    def __init__(self, batch):
        from ._times import from_ms

        self._batch = batch
        self.period_start = from_ms(batch.period_start)
        self.source = batch.source
        self.cached = batch.cached

    @property
    def num_rows(self):
        return self._batch.num_rows

    def __len__(self):
        return self._batch.num_rows

    def __arrow_c_array__(self, requested_schema=None):
        return self._batch.__arrow_c_array__(requested_schema)

    def __arrow_c_stream__(self, requested_schema=None):
        return self._batch.__arrow_c_stream__(requested_schema)

    def to_pyarrow(self):
        """A pyarrow.RecordBatch."""
        from ._convert import to_pyarrow

        return to_pyarrow(self._batch)

    def to_polars(self):
        from ._convert import to_polars

        return to_polars(self._batch)

    def to_pandas(self):
        from ._convert import to_pandas

        return to_pandas(self._batch)

    def __repr__(self):
        return f"<PeriodData {self.period_start.isoformat()} {self.source}: {self.num_rows} rows>"


def fetch_market_data(provider="BINANCE", market_type="SPOT", symbol=None, interval="1m",
                      start_time=None, end_time=None, *, chart_type="klines", use_cache=True,
                      enforce_source="AUTO", max_retries=None, return_polars=False,
                      return_arrow=False, **config):
    """The one-call fetch of the reference system: a manager for ``provider`` /
    ``market_type`` with ``use_cache``, ``enforce_source`` (AUTO | REST | VISION | CACHE),
    ``max_retries`` and any DSMConfig keyword, one fetch, closed. Returns pandas (default)
    or polars (``return_polars=True``); the report: ``dsm.last_report()``."""
    if symbol is None or start_time is None or end_time is None:
        raise InvalidInputError("fetch_market_data needs symbol, start_time and end_time")
    if name_of(chart_type, "chart_type").strip().lower() != "klines":
        raise InvalidInputError(f"chart_type={chart_type!r}: the data kinds available are: klines")
    source_of("enforce_source", enforce_source)  # checked before anything is created
    with DSMManager.create(provider, market_type, use_cache=use_cache, enforce_source=enforce_source,
                           max_retries=max_retries, **config) as manager:
        return manager.fetch_market_data(symbol, interval, start_time, end_time,
                                         return_polars=return_polars, return_arrow=return_arrow)
