"""Threads, Ctrl-C, fork and spawn, each in a fresh interpreter."""

import os

from conftest import MAPS, binary  # noqa: F401

DAY = 86_400_000
JAN1 = 1_704_067_200_000


def test_sixteen_threads_first_using_one_provider_load_its_plugin_once(fresh):
    out = fresh(
        "import os, json, threading\n" + MAPS + """
import dsm
barrier = threading.Barrier(16)
shared = dsm.DSMManager.create("BINANCE", "SPOT")
rows, errors = [], []
def work(i):
    try:
        manager = shared if i % 2 else dsm.DSMManager.create("BINANCE", "SPOT", use_cache=False)
        barrier.wait()
        rows.append(len(manager.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"rows": rows, "errors": errors, "loaded": dsm.loaded_plugins(), "mapped": mapped()}, default=str))
"""
    )
    assert out["errors"] == [] and out["rows"] == [48] * 16, out
    assert len(out["loaded"]) == 1 and out["loaded"][0][0] == "binance" and out["loaded"][0][2] == 1, out
    assert out["mapped"] == ["_native.abi3.so", "libdsm_binance.so"]


def test_ctrl_c_raises_keyboard_interrupt_cancels_and_keeps_completed_days(fresh, fake_url, tmp_path):
    """A fetch of 2024-01-01 .. 2024-02-03 (1m) from the archive: a proxy holds every
    archive request for February. Once one is in flight and January (the first chunk: the
    host caches a chunk's complete days together, a month of days at 1m) is cached, SIGINT
    is sent from a thread. The fetch raises KeyboardInterrupt while the answer is still
    held (so it was not waited out), January stays cached, and the manager fetches again."""
    cache = tmp_path / "kbd"
    out = fresh(
        f"""
import json, os, signal, threading, time
from proxy import Proxy
import dsm
proxy = Proxy({fake_url!r}, hold=lambda path: "2024-02" in path)
cache = {str(cache)!r}
january = [os.path.join(cache, "binance/spot/klines/BTCUSDT/1m", f"2024-01-{{d:02}}.arrow") for d in range(1, 32)]
m = dsm.DSMManager.create("BINANCE", "SPOT", endpoints={{"vision": proxy.url}}, cache_dir=cache)
def interrupt():
    proxy.held.wait(120)
    for _ in range(1200):  # the chunk's days are written as it ends: wait for the files
        if all(os.path.exists(d) for d in january):
            break
        time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
result = "finished"
try:
    m.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-03")
except KeyboardInterrupt:
    result = "interrupted"
still_held = not proxy.released.is_set()
proxy.release()
again = m.fetch_market_data("BTCUSDT", "1m", "2024-01-30", "2024-02-02")  # still usable
offline = dsm.DSMManager.create("BINANCE", "SPOT", enforce_source="CACHE", cache_dir=cache)
cached = offline.fetch_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-01")
print(json.dumps({{"result": result, "held": still_held, "cached": sum(os.path.exists(d) for d in january),
                   "again": len(again), "from_cache": len(cached), "gaps": len(offline.last_report.gaps),
                   "sources": sorted(set(s for _, s in offline.last_report.sources))}}))
"""
    )
    assert out["result"] == "interrupted" and out["held"] is True, out
    assert out["cached"] == 31 and out["from_cache"] == 31 * 1440 and out["gaps"] == 0, out
    assert out["sources"] == ["cache"] and out["again"] == 3 * 1440, out


def test_a_manager_used_in_a_forked_child_still_works(fresh):
    out = fresh(
        """
import json, multiprocessing as mp
import dsm
manager = dsm.DSMManager.create("BINANCE", "SPOT", use_cache=False)
parent_rows = len(manager.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02"))  # provider running
def child(q):
    q.put(len(manager.fetch_market_data("BTCUSDT", "1h", "2024-01-02", "2024-01-04")))
ctx = mp.get_context("fork")
q = ctx.Queue()
p = ctx.Process(target=child, args=(q,))
p.start()
child_rows = q.get(timeout=120)
p.join(120)
after = len(manager.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-02"))
print(json.dumps([parent_rows, child_rows, p.exitcode, after]))
"""
    )
    assert out == [24, 48, 0, 24]


def test_spawn_children_get_a_pickled_manager(fresh, tmp_path):
    script = tmp_path / "spawn_main.py"
    script.write_text(
        """
import json, multiprocessing as mp
import dsm

def rows(manager, day):
    return len(manager.fetch_market_data("BTCUSDT", "1h", day, "2024-01-05"))

if __name__ == "__main__":
    manager = dsm.DSMManager.create("BINANCE", "SPOT", max_retries=4)
    with mp.get_context("spawn").Pool(2) as pool:
        out = pool.starmap(rows, [(manager, "2024-01-01"), (manager, "2024-01-03")])
    print(json.dumps(out))
"""
    )
    out = fresh(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')")
    assert out == [96, 48]


def test_ctrl_c_interrupts_a_stream_too(fresh, fake_url, tmp_path):
    """As above with iter_market_data: January's 31 day batches arrive, the wait for
    February (held) is interrupted, and the manager streams again afterwards."""
    out = fresh(
        f"""
import json, os, signal, threading, time
from proxy import Proxy
import dsm
proxy = Proxy({fake_url!r}, hold=lambda path: "2024-02" in path)
m = dsm.DSMManager.create("BINANCE", "SPOT", endpoints={{"vision": proxy.url}}, cache_dir={str(tmp_path / "s")!r})
days = []
def interrupt():
    proxy.held.wait(120)
    for _ in range(1200):  # until every January day is consumed: the reader then waits on February
        if len(days) == 31:
            break
        time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGINT)
result = "finished"
try:
    for day in m.iter_market_data("BTCUSDT", "1m", "2024-01-01", "2024-02-03"):
        days.append(day.period_start.day)
        if len(days) == 1:
            threading.Thread(target=interrupt, daemon=True).start()
except KeyboardInterrupt:
    result = "interrupted"
still_held = not proxy.released.is_set()
proxy.release()
again = [len(d) for d in m.iter_market_data("BTCUSDT", "1m", "2024-01-30", "2024-02-02")]
print(json.dumps({{"result": result, "held": still_held, "days": days, "again": again}}))
"""
    )
    assert out["result"] == "interrupted" and out["held"] is True, out
    assert out["days"] == list(range(1, 32)) and out["again"] == [1440] * 3, out


def test_cancel_from_another_thread_stops_a_fetch_and_the_manager_stays_usable(fake_url):
    import threading

    import pytest

    import dsm
    from proxy import Proxy

    proxy = Proxy(fake_url, hold=lambda path: "2024-01-02" in path)
    try:
        m = dsm.DSMManager.create("BINANCE", "SPOT", endpoints={"vision": proxy.url}, use_cache=False)

        def cancel():
            proxy.held.wait(60)
            m.cancel()

        threading.Thread(target=cancel, daemon=True).start()
        with pytest.raises(dsm.CancelledError):
            m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")
        assert not proxy.released.is_set()  # cancelled while the answer was still held
        proxy.release()
        assert len(m.fetch_market_data("BTCUSDT", "1h", "2024-01-01", "2024-01-03")) == 48
    finally:
        proxy.close()
