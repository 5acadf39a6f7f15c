#!/usr/bin/env python3
"""Python-side figures for BENCHMARKS.md ("Python" section): import, create, warm year.

    cargo build --release --workspace && pip install ./python    # release wheel
    python bench/python_bench.py [--repeat N]

Starts target/release/fake-exchange on 127.0.0.1 (every endpoint variable pointed at it, a
temporary cache), fills a year of 1m BTCUSDT once, then measures in fresh interpreters:
- import: wall time of `python -c "import dsm"` minus `python -c pass` (median), and the
  RSS it adds (VmRSS after minus before, in process);
- create: the first DSMManager.create of a process (loads dsm._native) and later ones;
- warm year: 2023 of 1m BTCUSDT from the cache to polars and to pandas (median).
Prints a Markdown table.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENDPOINTS = ("DSM_BINANCE_URL", "DSM_BINANCE_UM_URL", "DSM_BINANCE_CM_URL",
             "DSM_BINANCE_VISION_URL", "DSM_OKX_URL", "DSM_BYBIT_URL")


def wall(cmd, env, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, cwd=tempfile.gettempdir())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def child(code, env):
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True, cwd=tempfile.gettempdir()).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    fake = subprocess.Popen([os.path.join(ROOT, "target/release/fake-exchange"), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    url = fake.stdout.readline().strip()
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSM_")}
        env.update({k: url for k in ENDPOINTS}, DSM_CACHE_DIR=cache)
        try:
            base = wall([sys.executable, "-c", "pass"], env, args.repeat)
            imp = wall([sys.executable, "-c", "import dsm"], env, args.repeat)
            rss = child("""
import json
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0].split()[1])
b = rss(); import dsm; print(json.dumps(rss() - b))""", env)
            create = child("""
import json, time
import dsm
t = time.perf_counter(); dsm.DSMManager.create("BINANCE", "SPOT"); first = time.perf_counter() - t
ts = []
for _ in range(200):
    t = time.perf_counter(); dsm.DSMManager.create("BINANCE", "SPOT"); ts.append(time.perf_counter() - t)
ts.sort(); print(json.dumps([first, ts[len(ts) // 2]]))""", env)
            child("""
import dsm, json
dsm.DSMManager.create("BINANCE", "SPOT").fetch_table("BTCUSDT", "1m", "2023-01-01", "2024-01-01")
print(json.dumps(0))""", env)
            warm = child(f"""
import json, statistics, time
import dsm, polars, pandas, pyarrow
m = dsm.DSMManager.create("BINANCE", "SPOT")
def t(**kw):
    out = []
    for _ in range({max(3, args.repeat // 3)}):
        s = time.perf_counter(); df = m.fetch_market_data("BTCUSDT", "1m", "2023-01-01", "2024-01-01", **kw)
        out.append(time.perf_counter() - s)
    assert len(df) == 525600, len(df)
    return statistics.median(out)
print(json.dumps([t(return_polars=True), t()]))""", env)
        finally:
            fake.kill()
            fake.wait()
    print("| measure | value |\n|---|---|")
    print(f"| import dsm, wall over `python -c pass` | {(imp - base) * 1e3:.1f} ms |")
    print(f"| import dsm, RSS added | {rss / 1024:.2f} MiB |")
    print(f"| first DSMManager.create (loads dsm._native) | {create[0] * 1e3:.2f} ms |")
    print(f"| later DSMManager.create (median of 200) | {create[1] * 1e6:.0f} us |")
    print(f"| warm year 1m BTCUSDT -> polars | {warm[0] * 1e3:.0f} ms |")
    print(f"| warm year 1m BTCUSDT -> pandas | {warm[1] * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
