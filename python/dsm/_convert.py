"""Arrow results (objects with ``__arrow_c_stream__`` / ``__arrow_c_array__``) to
pyarrow, polars and pandas. Each library is imported only when its output is asked for."""


def _need(module, what):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"{what} needs {module}, which is not installed: pip install {module} "
            "(return_polars=True needs only polars; fetch_table() needs none)"
        ) from e


def to_pyarrow(obj):
    """A pyarrow.Table (from a stream) or RecordBatch (from a period batch)."""
    pa = _need("pyarrow", "an Arrow or pandas result")
    if hasattr(obj, "__arrow_c_array__"):
        return pa.record_batch(obj)
    return pa.table(obj)


def to_polars(obj):
    """A polars.DataFrame, through the Arrow C stream (polars does not need pyarrow)."""
    return _need("polars", "return_polars=True").DataFrame(obj)


def to_pandas(obj):
    """A pandas.DataFrame indexed by its first column, the kind's time or id (open_time for
    candles, funding_time, ...; UTC), through pyarrow (no copy per row)."""
    pd = _need("pandas", "a pandas result (the default)")
    df = to_pyarrow(obj).to_pandas()
    # Not set_index: without copy-on-write (pandas < 3) it copies every column.
    df.index = pd.Index(df.pop(df.columns[0]))
    return df


def convert(obj, return_polars=False, return_arrow=False):
    if return_polars and return_arrow:
        from ._errors import InvalidInputError

        raise InvalidInputError("return_polars and return_arrow cannot both be True")
    if return_polars:
        return to_polars(obj)
    if return_arrow:
        return to_pyarrow(obj)
    return to_pandas(obj)
