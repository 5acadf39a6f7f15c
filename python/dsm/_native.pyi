# The Rust half of dsm (python/src/). Use the dsm package's API instead.
from typing import Any, Iterator, Optional, Tuple, Union

def list_providers(extra_dirs: list[str]) -> list[dict[str, Any]]: ...
def loaded_plugins() -> list[Tuple[str, Any, int]]: ...

class Table:
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

class Batch:
    period_start: int
    source: str
    cached: bool
    num_rows: int
    def __arrow_c_array__(self, requested_schema: object = None) -> Tuple[object, object]: ...
    def __arrow_c_stream__(self, requested_schema: object = None) -> object: ...
    def __len__(self) -> int: ...

class Stream(Iterator[Batch]):
    provider: str
    market: str
    symbol: str
    interval: str
    def __next__(self) -> Batch: ...
    def summary(self) -> Optional[Tuple[list[Tuple[int, int, str]], list[Tuple[int, str]], int, int, list[str]]]: ...
    def close(self) -> None: ...

class Manager:
    provider: str
    market: str
    intervals: list[str]
    is_loaded: bool
    def __init__(self, provider: str, market: str, preset: str, settings: dict[str, Any]) -> None: ...
    def settings(self) -> dict[str, Any]: ...
    def fetch(self, symbol: str, interval: str, start: Union[int, str], end: Union[int, str]) -> Table: ...
    def stream(self, symbol: str, interval: str, start: Union[int, str], end: Union[int, str]) -> Stream: ...
    def cancel(self) -> None: ...
