"""DSMConfig: a manager's settings, checked in pure Python (no native code, no I/O).

Precedence when a manager is created: the preset (default, production, development), then
the ``DSM_*`` environment variables, then the keywords given here.
"""

import os

from ._errors import InvalidInputError
from ._load import package_plugin_dir

PRESETS = ("default", "production", "development")

_LEVELS = {
    "TRACE": "trace",
    "DEBUG": "debug",
    "INFO": "info",
    "WARNING": "warn",
    "WARN": "warn",
    "ERROR": "error",
    "CRITICAL": "error",
}
_LEVEL_NUMBERS = {5: "trace", 10: "debug", 20: "info", 30: "warn", 40: "error", 50: "error"}
_SOURCES = {"AUTO": "auto", "REST": "rest", "VISION": "archive", "ARCHIVE": "archive", "CACHE": "cache"}


def name_of(value, what):
    """A provider, market or interval given as a string or an enum member, as a string."""
    if hasattr(value, "_value_"):  # an enum member (dsm's, or the reference system's)
        inner = value._value_
        return inner if isinstance(inner, str) else value.name
    if isinstance(value, str):
        return value
    raise InvalidInputError(f"{what}={value!r}: expected a string such as 'BINANCE' or an enum member")


def _number(kw, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(f"{kw}={value!r}: expected a number")
    if value < minimum:
        raise InvalidInputError(f"{kw}={value!r}: must be at least {minimum}")
    return value


def _seconds_ms(kw, value):
    return int(round(_number(kw, value, 0) * 1000))


def _count(kw, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{kw}={value!r}: expected a whole number")
    return int(_number(kw, value, 0))


def _positive(kw, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{kw}={value!r}: expected a whole number")
    return int(_number(kw, value, 1))


def _bool(kw, value):
    if not isinstance(value, bool):
        raise InvalidInputError(f"{kw}={value!r}: expected True or False")
    return value


def _not_bool(kw, value):
    return not _bool(kw, value)


def _level(kw, value):
    if isinstance(value, int) and not isinstance(value, bool) and value in _LEVEL_NUMBERS:
        return _LEVEL_NUMBERS[value]
    if isinstance(value, str) and value.strip().upper() in _LEVELS:
        return _LEVELS[value.strip().upper()]
    raise InvalidInputError(
        f"{kw}={value!r} is not a log level; valid: {', '.join(_LEVELS)} (or logging.DEBUG etc.)"
    )


def source_of(kw, value):
    """AUTO | REST | VISION | CACHE (case-insensitive; ARCHIVE = VISION) as dsm's name."""
    text = name_of(value, kw).strip().upper()
    if text not in _SOURCES:
        raise InvalidInputError(f"{kw}={value!r} is not a source; valid: AUTO, REST, VISION, CACHE")
    return _SOURCES[text]


def _path(kw, value):
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidInputError(f"{kw}={value!r}: expected a path")
    return os.fspath(value)


def _paths(kw, value):
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    return [_path(kw, v) for v in value]


def _endpoints(kw, value):
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInputError(f"{kw}={value!r}: expected a dict of endpoint key -> URL, e.g. {{'spot': 'http://127.0.0.1:8080'}}")
    return dict(value)


# keyword -> (native setting, converter, meaning). The one table of what each keyword does.
KEYWORDS = {
    "connection_timeout": ("request_timeout_ms", _seconds_ms, "seconds one HTTP request may take, body included"),
    "connect_timeout": ("connect_timeout_ms", _seconds_ms, "seconds to open a connection (TCP + TLS)"),
    "max_retries": ("retries", _count, "retries after the first attempt on network errors, timeouts, 5xx"),
    "connection_pool_size": ("pool_size", _positive, "idle connections kept per host"),
    "concurrency": ("concurrency", _positive, "requests in flight at once"),
    "max_retry_after": ("max_retry_after_ms", _seconds_ms, "longest 429/418 Retry-After (seconds) waited out"),
    "log_level": ("log_level", _level, "DEBUG, INFO, WARNING, ERROR, CRITICAL (or TRACE): logs on stderr"),
    "suppress_http_debug": ("log_http", _not_bool, "False: log every HTTP request (at DEBUG)"),
    "cache_dir": ("cache_dir", _path, "where complete days are cached (default $DSM_CACHE_DIR or ~/.cache/dsm)"),
    "use_cache": ("cache_enabled", _bool, "read and write the local cache"),
    "enforce_source": ("source", source_of, "AUTO, REST, VISION or CACHE: which sources fetches use"),
    "endpoints": ("endpoints", _endpoints, "endpoint overrides by manifest key, e.g. {'spot': url}"),
    "plugin_dirs": ("plugin_dirs", _paths, "extra plugin directories, searched first"),
    "allow_insecure_plugins": ("allow_insecure_plugins", _bool, "load plugin files others could have written"),
}


def check_options(options):
    """Each keyword checked and converted to its native setting; unknown ones rejected."""
    out = {}
    for kw, value in options.items():
        if kw not in KEYWORDS:
            raise InvalidInputError(
                f"unknown configuration keyword {kw!r}; valid: {', '.join(KEYWORDS)}"
            )
        if value is None:  # None = keep the preset's / environment's value
            continue
        key, convert, _ = KEYWORDS[kw]
        out[kw] = (key, convert(kw, value))
    return out


class DSMConfig:
    """Settings of one manager: a provider, a market and keyword overrides.

    Build one with ``DSMConfig.for_production(...)``, ``DSMConfig.for_development(...)``,
    ``DSMConfig.from_env()`` or ``DSMConfig(provider, market_type, **keywords)``, then
    ``DSMManager.create_with_config(config)``. Keywords (None keeps the default):

    connection_timeout, connect_timeout, max_retries, connection_pool_size, concurrency,
    max_retry_after, log_level, suppress_http_debug, cache_dir, use_cache, enforce_source,
    endpoints, plugin_dirs, allow_insecure_plugins (see ``DSMConfig.KEYWORDS``).

    Presets: default (30 s timeout, 3 retries, pool 10, warnings), production (60 s, 5
    retries, pool 20, errors only), development (15 s, 2 retries, pool 5, debug logs with
    every HTTP request). ``DSM_*`` environment variables override a preset; keywords
    override both. Checking a config loads nothing; provider and market names are checked
    against the installed plugins when a manager is created.
    """

    __slots__ = ("provider", "market_type", "preset", "_options")

    KEYWORDS = {kw: meaning for kw, (_, _, meaning) in KEYWORDS.items()}

    def __init__(self, provider="BINANCE", market_type="SPOT", *, preset="default", **options):
        self.provider = name_of(provider, "provider")
        self.market_type = name_of(market_type, "market_type")
        if preset not in PRESETS:
            raise InvalidInputError(f"preset={preset!r} is not one of {', '.join(PRESETS)}")
        self.preset = preset
        self._options = check_options(options)

    @classmethod
    def for_production(cls, provider, market_type, **options):
        """Long-running services: 60 s timeout, 5 retries, pool 20, errors only."""
        return cls(provider, market_type, preset="production", **options)

    @classmethod
    def for_development(cls, provider, market_type, **options):
        """Development: 15 s timeout, 2 retries, pool 5, DEBUG logs including HTTP."""
        return cls(provider, market_type, preset="development", **options)

    @classmethod
    def from_env(cls, provider=None, market_type=None, **options):
        """Provider and market from the arguments or DSM_PROVIDER / DSM_MARKET_TYPE
        (default BINANCE / SPOT), preset from DSM_PRESET (default), settings from the
        ``DSM_*`` variables (as every config reads them) and ``options``."""
        env = os.environ
        return cls(
            provider or env.get("DSM_PROVIDER", "BINANCE"),
            market_type or env.get("DSM_MARKET_TYPE", "SPOT"),
            preset=env.get("DSM_PRESET", "default").strip().lower(),
            **options,
        )

    def replace(self, **options):
        """A copy with some keywords changed (None removes an override)."""
        new = DSMConfig.__new__(DSMConfig)
        new.__setstate__(self.__getstate__())
        new._options = dict(self._options)
        for kw, value in options.items():
            checked = check_options({kw: value})  # rejects unknown keywords, None or not
            if value is None:
                new._options.pop(kw, None)
            new._options.update(checked)
        return new

    @property
    def options(self):
        """The keyword overrides given, as converted for the native library."""
        return {kw: value for kw, (_, value) in self._options.items()}

    def native_settings(self):
        """The settings dict the native module takes (keys: dsm._native's settings)."""
        settings = {key: value for key, value in self._options.values()}
        settings["package_plugin_dir"] = package_plugin_dir()
        return settings

    def __getstate__(self):
        return (self.provider, self.market_type, self.preset, self._options)

    def __setstate__(self, state):
        self.provider, self.market_type, self.preset, self._options = state

    def __eq__(self, other):
        return isinstance(other, DSMConfig) and self.__getstate__() == other.__getstate__()

    def __repr__(self):
        opts = "".join(f", {kw}={value!r}" for kw, value in self.options.items())
        return f"DSMConfig({self.provider!r}, {self.market_type!r}, preset={self.preset!r}{opts})"
