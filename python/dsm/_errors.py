"""dsm's exceptions (pure Python: catching them loads no native code)."""


class DSMError(Exception):
    """Base class of every error dsm raises."""


class InvalidInputError(DSMError, ValueError):
    """What was asked for is wrong: an unknown provider, market, symbol, interval, keyword
    or value, or a malformed or reversed time range. The message says what is valid."""


class FetchError(DSMError, RuntimeError):
    """A fetch failed: the network, the exchange or a plugin. The message says why."""


class CancelledError(FetchError):
    """The fetch was cancelled (``DSMManager.cancel`` or Ctrl-C from another fetch)."""
