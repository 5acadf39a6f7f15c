"""DataProvider and MarketType: enums of every provider and market the installed plugins'
manifests declare, built on first access (reading manifests, loading no plugin)."""

import enum
import threading

from ._load import native, plugin_dirs

_lock = threading.Lock()
_built = {}


class _Names(str, enum.Enum):
    """Members are their lowercase dsm names; lookups ignore case and accept aliases."""

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            member = cls.__members__.get(_member_name(value))
            if member is not None:
                return member
        return None

    def __str__(self):
        return self.value


def _member_name(text):
    return text.strip().upper().replace("-", "_").replace(" ", "_")


def _build():
    providers = native().list_providers(plugin_dirs())
    provider_members = []
    market_members = []
    seen = set()
    for p in providers:
        provider_members.append((_member_name(p["id"]), p["id"]))
        for m in p["markets"]:
            for name in [m["id"], *m["aliases"]]:
                key = _member_name(name)
                if key.isidentifier() and key not in seen:
                    seen.add(key)
                    market_members.append((key, m["id"]))
    # Canonical ids first, so an alias never becomes a member's canonical name.
    market_members.sort(key=lambda kv: kv[0] != _member_name(kv[1]))
    return {
        "DataProvider": _Names("DataProvider", provider_members, module="dsm"),
        "MarketType": _Names("MarketType", market_members, module="dsm"),
    }


def get(name):
    with _lock:
        if not _built:
            _built.update(_build())
    return _built[name]
