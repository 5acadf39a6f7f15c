"""Python bounds a fetch of trades or of 1s days as the CLI does: the first such fetch fixes
glibc's mmap threshold for the process (dsm_core::memory::return_large_blocks), other
fetches leave glibc's own adjusting threshold alone.

What is checked is the allocator's behaviour, not a flag: glibc raises its threshold when a
mapped block is freed (an 8 MiB block freed: the threshold becomes 8 MiB, so a 1 MiB block
then comes from the heap), unless mallopt(M_MMAP_THRESHOLD) fixed it (then 1 MiB is above
the 128 KiB threshold and is mapped on its own: mallinfo2's hblks counts it). Each case runs
in a fresh interpreter, as the setting is process-wide."""

import ctypes
import ctypes.util
import platform

import pytest

GLIBC = platform.libc_ver()[0] == "glibc"
try:
    HAS_MALLINFO2 = GLIBC and hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "mallinfo2")
except OSError:
    HAS_MALLINFO2 = False

pytestmark = pytest.mark.skipif(not HAS_MALLINFO2, reason="needs glibc >= 2.33 (mallinfo2)")

PROBE = """
import ctypes, ctypes.util, json

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Mallinfo2

def one_mib_is_mapped():
    # A mapped block freed raises a threshold glibc still adjusts to at least its size.
    libc.free(libc.malloc(8 << 20))
    before = libc.mallinfo2().hblks
    p = libc.malloc(1 << 20)
    mapped = libc.mallinfo2().hblks > before
    libc.free(p)
    return mapped
"""


def probe_after(fresh, fetch):
    code = PROBE + f"""
import dsm
m = dsm.DSMManager.create("BINANCE", "SPOT", use_cache=False)
before = one_mib_is_mapped()
rows = {fetch}
print(json.dumps([before, one_mib_is_mapped(), rows]))
"""
    return fresh(code)


def test_a_fetch_of_1s_fixes_the_threshold(fresh):
    before, after, rows = probe_after(
        fresh, 'len(m.fetch_table("BTCUSDT", "1s", 1704067200000, 1704067200000 + 3600_000))')
    assert rows == 3600
    assert (before, after) == (False, True)


def test_a_fetch_of_trades_fixes_the_threshold(fresh):
    before, after, rows = probe_after(
        fresh, 'len(m.fetch_data("agg-trades", "BTCUSDT", 1704067200000, 1704067200000 + 600_000, return_arrow=True))')
    assert rows > 0
    assert (before, after) == (False, True)


def test_a_fetch_of_1m_keeps_glibcs_threshold(fresh):
    before, after, rows = probe_after(
        fresh, 'len(m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-01-02"))'
               ' + sum(len(b) for b in m.iter_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03"))')
    assert rows == 1440 + 48
    assert (before, after) == (False, False)
