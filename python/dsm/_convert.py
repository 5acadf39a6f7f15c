"""Arrow results (objects with ``__arrow_c_stream__`` / ``__arrow_c_array__``) to
pyarrow, polars and pandas. Each library is imported only when its output is asked for."""


def to_pyarrow(obj):
    """A pyarrow.Table (from a stream) or RecordBatch (from a period batch)."""
    import pyarrow as pa

    if hasattr(obj, "__arrow_c_array__"):
        return pa.record_batch(obj)
    return pa.table(obj)


def to_polars(obj):
    """A polars.DataFrame, through the Arrow C stream (polars does not need pyarrow)."""
    import polars as pl

    return pl.DataFrame(obj)


def to_pandas(obj):
    """A pandas.DataFrame indexed by open_time (UTC), through pyarrow (no copy per row)."""
    df = to_pyarrow(obj).to_pandas()
    return df.set_index("open_time")


def convert(obj, return_polars=False, return_arrow=False):
    if return_polars and return_arrow:
        from ._errors import InvalidInputError

        raise InvalidInputError("return_polars and return_arrow cannot both be True")
    if return_polars:
        return to_polars(obj)
    if return_arrow:
        return to_pyarrow(obj)
    return to_pandas(obj)
