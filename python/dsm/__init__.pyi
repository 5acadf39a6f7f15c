# Type stubs for dsm. DataProvider and MarketType are built at run time from the
# installed plugins' manifests; the members below are those of the plugins shipped in the
# package (binance, okx, bybit); a plugin added through DSM_PLUGIN_PATH adds its own.
import datetime
import enum
import os
from typing import Any, Iterator, Literal, Mapping, Optional, Sequence, Tuple, Union

import pandas
import polars
import pyarrow

Time = Union[datetime.datetime, datetime.date, str, int]
Name = Union[str, enum.Enum]
__version__: str

class DataProvider(str, enum.Enum):
    BINANCE = "binance"
    BYBIT = "bybit"
    OKX = "okx"

class MarketType(str, enum.Enum):
    SPOT = "spot"
    UM = "um"
    CM = "cm"
    SWAP = "swap"
    LINEAR = "linear"
    INVERSE = "inverse"
    USDM = "um"
    FUTURES_USDT = "um"
    COINM = "cm"
    FUTURES_COIN = "cm"
    PERP = "swap"
    USDT_PERP = "linear"
    COIN_PERP = "inverse"

class DSMError(Exception): ...
class InvalidInputError(DSMError, ValueError): ...
class FetchError(DSMError, RuntimeError): ...
class CancelledError(FetchError): ...

class DSMConfig:
    provider: str
    market_type: str
    preset: Literal["default", "production", "development"]
    KEYWORDS: dict[str, str]
    def __init__(
        self,
        provider: Name = "BINANCE",
        market_type: Name = "SPOT",
        *,
        preset: Literal["default", "production", "development"] = "default",
        connection_timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        connection_pool_size: Optional[int] = None,
        concurrency: Optional[int] = None,
        max_retry_after: Optional[float] = None,
        log_level: Optional[Union[str, int]] = None,
        suppress_http_debug: Optional[bool] = None,
        cache_dir: Optional[Union[str, os.PathLike[str]]] = None,
        use_cache: Optional[bool] = None,
        enforce_source: Optional[Union[Literal["AUTO", "REST", "VISION", "CACHE"], str]] = None,
        endpoints: Optional[Mapping[str, str]] = None,
        plugin_dirs: Optional[Sequence[Union[str, os.PathLike[str]]]] = None,
        allow_insecure_plugins: Optional[bool] = None,
    ) -> None: ...
    @classmethod
    def for_production(cls, provider: Name, market_type: Name, **options: Any) -> DSMConfig: ...
    @classmethod
    def for_development(cls, provider: Name, market_type: Name, **options: Any) -> DSMConfig: ...
    @classmethod
    def from_env(cls, provider: Optional[Name] = None, market_type: Optional[Name] = None, **options: Any) -> DSMConfig: ...
    def replace(self, **options: Any) -> DSMConfig: ...
    @property
    def options(self) -> dict[str, Any]: ...

class Gap:
    start: datetime.datetime
    end: datetime.datetime
    reason: str

class FetchReport:
    provider: Optional[str]
    market_type: Optional[str]
    symbol: Optional[str]
    interval: Optional[str]
    start: Optional[datetime.datetime]
    end: Optional[datetime.datetime]
    rows: Optional[int]
    gaps: list[Gap]
    sources: list[Tuple[datetime.datetime, Literal["cache", "archive", "rest"]]]
    requests: int
    cached_periods: int
    notes: list[str]
    @property
    def has_gaps(self) -> bool: ...

class Table:
    """A fetch's candles as an Arrow C stream, with its report."""
    provider: str
    market: str
    symbol: str
    interval: str
    start_ms: int
    end_ms: int
    num_rows: int
    gaps: list[Tuple[int, int, str]]
    sources: list[Tuple[int, str]]
    requests: int
    cached_periods: int
    notes: list[str]
    def __arrow_c_stream__(self, requested_schema: object = None) -> object: ...
    def __len__(self) -> int: ...

class PeriodData:
    period_start: datetime.datetime
    source: Literal["cache", "archive", "rest"]
    cached: bool
    @property
    def num_rows(self) -> int: ...
    def __len__(self) -> int: ...
    def __arrow_c_array__(self, requested_schema: object = None) -> Tuple[object, object]: ...
    def __arrow_c_stream__(self, requested_schema: object = None) -> object: ...
    def to_pyarrow(self) -> pyarrow.RecordBatch: ...
    def to_polars(self) -> polars.DataFrame: ...
    def to_pandas(self) -> pandas.DataFrame: ...

class DSMManager:
    last_report: Optional[FetchReport]
    last_export: Optional[dict[str, Any]]
    @classmethod
    def create(cls, provider: Name, market_type: Name, **config: Any) -> DSMManager: ...
    @classmethod
    def create_with_config(cls, config: DSMConfig) -> DSMManager: ...
    @property
    def config(self) -> DSMConfig: ...
    @property
    def provider(self) -> str: ...
    @property
    def market_type(self) -> str: ...
    @property
    def intervals(self) -> list[str]: ...
    @property
    def is_loaded(self) -> bool: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    def fetch_market_data(
        self, symbol: str, interval: Name, start_time: Time, end_time: Time, *,
        return_polars: bool = False, return_arrow: bool = False,
    ) -> Union[pandas.DataFrame, polars.DataFrame, pyarrow.Table]: ...
    def fetch_table(self, symbol: str, interval: Name, start_time: Time, end_time: Time) -> Table: ...
    def fetch_data(
        self, kind: Name, symbol: str, start_time: Time, end_time: Time, *,
        interval: Optional[Name] = None, return_polars: bool = False, return_arrow: bool = False,
    ) -> Union[pandas.DataFrame, polars.DataFrame, pyarrow.Table]: ...
    def symbols(
        self, *, kind: Optional[Name] = None, interval: Optional[Name] = None,
        include_archive: bool = False, refresh: bool = False,
    ) -> pandas.DataFrame: ...
    def fetch_funding_rates(
        self, symbol: str, start_time: Time, end_time: Time, *,
        return_polars: bool = False, return_arrow: bool = False,
    ) -> Union[pandas.DataFrame, polars.DataFrame, pyarrow.Table]: ...
    def iter_market_data(self, symbol: str, interval: Name, start_time: Time, end_time: Time) -> Iterator[PeriodData]: ...
    def sync(
        self, symbols: Union[str, list[str]], start_time: Time, end_time: Time, *,
        intervals: Optional[Union[Name, list[Name]]] = None, kinds: Union[Name, list[Name]] = ("klines",),
        workers: int = 4, shard: Optional[str] = None, lock: Optional[Union[str, os.PathLike[str]]] = None,
        dataset: Optional[Union[str, os.PathLike[str]]] = None, return_polars: bool = False,
    ) -> Union[pandas.DataFrame, polars.DataFrame]: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> DSMManager: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

def fetch_market_data(
    provider: Name = "BINANCE",
    market_type: Name = "SPOT",
    symbol: Optional[str] = None,
    interval: Name = "1m",
    start_time: Optional[Time] = None,
    end_time: Optional[Time] = None,
    *,
    chart_type: Name = "klines",
    use_cache: bool = True,
    enforce_source: Union[Literal["AUTO", "REST", "VISION", "CACHE"], str] = "AUTO",
    max_retries: Optional[int] = None,
    return_polars: bool = False,
    return_arrow: bool = False,
    **config: Any,
) -> Union[pandas.DataFrame, polars.DataFrame, pyarrow.Table]: ...
def last_report() -> Optional[FetchReport]: ...
def list_providers() -> list[dict[str, Any]]: ...
def loaded_plugins() -> list[Tuple[str, str, int]]: ...
