"""What a fetch reports besides candles: gaps (never filled) and the source of each period."""

import _thread

_last = _thread._local()  # threading.local without importing threading (import speed)


class Gap:
    """Candles that should exist but were not served, ``[start, end)`` (UTC datetimes),
    and why."""

    __slots__ = ("start", "end", "reason")

    def __init__(self, start, end, reason):
        self.start, self.end, self.reason = start, end, reason

    def __eq__(self, other):
        return isinstance(other, Gap) and (self.start, self.end, self.reason) == (other.start, other.end, other.reason)

    def __repr__(self):
        return f"Gap({self.start.isoformat()} .. {self.end.isoformat()}: {self.reason})"


class FetchReport:
    """The report of one fetch.

    - ``gaps``: list of :class:`Gap`
    - ``sources``: list of (period start as a UTC datetime, "cache" | "archive" | "rest")
      for every period (UTC day; month for 1d and longer) that served candles
    - ``requests``: HTTP requests made, retries included
    - ``cached_periods``: periods this fetch wrote to the cache
    - ``notes``: things worth knowing that did not stop the fetch
    - ``provider``, ``market_type``, ``symbol``, ``interval``, ``start``, ``end``: what was
      served (the end clipped to the time of the fetch)
    """

    __slots__ = ("provider", "market_type", "symbol", "interval", "start", "end", "rows",
                 "gaps", "sources", "requests", "cached_periods", "notes")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    @property
    def has_gaps(self):
        return bool(self.gaps)

    def __repr__(self):
        return (f"FetchReport({self.provider} {self.market_type} {self.symbol} {self.interval}: "
                f"{self.rows} rows, {len(self.gaps)} gaps, {self.requests} requests)")


def from_summary(gaps, sources, requests, cached_periods, notes, **what):
    from ._times import from_ms

    return FetchReport(
        gaps=[Gap(from_ms(s), from_ms(e), why) for s, e, why in gaps],
        sources=[(from_ms(t), src) for t, src in sources],
        requests=requests,
        cached_periods=cached_periods,
        notes=list(notes),
        **what,
    )


def from_table(table):
    from ._times import from_ms

    return from_summary(
        table.gaps, table.sources, table.requests, table.cached_periods, table.notes,
        provider=table.provider, market_type=table.market, symbol=table.symbol,
        interval=table.interval, start=from_ms(table.start_ms), end=from_ms(table.end_ms),
        rows=table.num_rows,
    )


def remember(report):
    _last.report = report


def last_report():
    """The report of the last fetch this thread made (any manager, or the one-call
    ``fetch_market_data``), or None."""
    return getattr(_last, "report", None)
