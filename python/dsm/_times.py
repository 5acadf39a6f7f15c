"""Times from Python to dsm: datetimes (naive = UTC), dates, ISO strings, integer ms."""

import datetime as _dt

from ._errors import InvalidInputError

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MS = _dt.timedelta(milliseconds=1)


def to_native(value, what):
    """``value`` as the native module takes it: int milliseconds UTC, or a string that
    dsm parses (a date, an RFC 3339 / ISO 8601 time, without a zone = UTC)."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{what}={value!r}: a time cannot be a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return (value - _EPOCH) // _MS
    if isinstance(value, _dt.date):
        return (_dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc) - _EPOCH) // _MS
    if isinstance(value, str):
        return value
    raise InvalidInputError(
        f"{what}={value!r} ({type(value).__name__}) is not a time: use a datetime "
        "(naive = UTC), a date, an ISO 8601 string ('2024-01-01', '2024-01-01T12:00:00Z') "
        "or integer milliseconds since 1970 UTC"
    )


def from_ms(ms):
    """Milliseconds UTC as an aware UTC datetime."""
    return _EPOCH + _dt.timedelta(milliseconds=ms)
