#!/usr/bin/env python3
"""Python-side figures for BENCHMARKS.md ("Python" section): import, create, warm year.

    cargo build --release --workspace && pip install ./python    # release wheel
    python bench/python_bench.py [--repeat N]

Starts target/release/fake-exchange on 127.0.0.1 (every endpoint variable pointed at it, a
temporary cache), fills a year of 1m BTCUSDT once, then measures in fresh interpreters:
- import: wall time of `python -c "import dsm"` minus `python -c pass` (median), and the
  RSS it adds (VmRSS after minus before, in process);
- create: the first DSMManager.create of a process (loads dsm._native) and later ones;
- warm year: 2023 of 1m BTCUSDT from the cache to polars and to pandas (median, wall and
  the process's CPU time), and the host alone on the same cache (`dsm-bench probe fetch`: a
  Vec<Kline>, no Python);
- cold year: 2023 of 1h and of 1m from the archive (`enforce_source="VISION"`, a fresh
  cache each run) to pandas, as a whole `python -c` process and the fetch call alone (pandas imported first), next
  to the dsm CLI doing the same (`dsm fetch --source archive -f parquet`, whole process);
  one warm-up run of each first, so the fake has built its zips.
Prints a Markdown table.
"""

import argparse
import json
import os
import resource
import shutil
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


def run_timed(cmd, env):
    """Wall and CPU (user+sys of the child) seconds of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cold_year(interval, env, repeat):
    """Medians of (python process wall, python process CPU, fetch call wall, CLI wall,
    CLI CPU) for a cold year of `interval` from the archive."""
    dsm = os.path.join(ROOT, "target/release/dsm")
    code = f"""
import json, sys, time
import dsm, pandas  # pandas imported before the clock starts: the CLI never imports it
t = time.perf_counter()
df = dsm.fetch_market_data("BINANCE", "SPOT", "BTCUSDT", "{interval}", "2023-01-01", "2024-01-01",
                           enforce_source="VISION", cache_dir=sys.argv[1])
took = time.perf_counter() - t
open(sys.argv[2], "w").write(json.dumps([took, len(df)]))"""
    rows = {"1h": 8760, "1m": 525600}[interval]
    py_wall, py_cpu, call, cli_wall, cli_cpu = [], [], [], [], []
    for i in range(repeat + 1):  # the first run of each is a warm-up
        work = tempfile.mkdtemp(prefix="dsm-pybench-")
        try:
            out = os.path.join(work, "call.json")
            w, c = run_timed([sys.executable, "-c", code, os.path.join(work, "py-cache"), out], env)
            with open(out) as f:
                took, n = json.load(f)
            assert n == rows, (interval, n)
            cw, cc = run_timed([dsm, "fetch", "-p", "binance", "-m", "spot", "-s", "BTCUSDT", "-i", interval,
                                "--start", "2023-01-01", "--end", "2024-01-01", "--source", "archive",
                                "-f", "parquet", "-o", os.path.join(work, "out.parquet"),
                                "--cache-dir", os.path.join(work, "cli-cache")], env)
        finally:
            shutil.rmtree(work)
        if i:
            py_wall.append(w), py_cpu.append(c), call.append(took), cli_wall.append(cw), cli_cpu.append(cc)
    return [statistics.median(v) for v in (py_wall, py_cpu, call, cli_wall, cli_cpu)]


def host_alone(cache, env, repeat):
    """The host's own warm year (no Python), median ns from dsm-bench's fetch probe."""
    bench = os.path.join(ROOT, "target/release/dsm-bench")
    if not os.path.exists(bench):
        return None
    out = []
    for _ in range(repeat):
        text = subprocess.run([bench, "probe", "fetch", "--plugin-dir", os.path.join(ROOT, "target/release"),
                               "--cache-dir", cache, "--start", "2023-01-01", "--end", "2024-01-01"],
                              env=env, check=True, capture_output=True, text=True).stdout
        out.append(int(text.split("fetch=")[1].split()[0]))
    return statistics.median(out) / 1e9


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
    out, cpu = [], []
    for _ in range({max(3, args.repeat // 3)}):
        s, c = time.perf_counter(), time.process_time()
        df = m.fetch_market_data("BTCUSDT", "1m", "2023-01-01", "2024-01-01", **kw)
        out.append(time.perf_counter() - s), cpu.append(time.process_time() - c)
    assert len(df) == 525600, len(df)
    return [statistics.median(out), statistics.median(cpu)]
print(json.dumps([t(return_polars=True), t(), t(return_arrow=True)]))""", env)
            host = host_alone(cache, env, max(3, args.repeat // 3))
            cold = {iv: cold_year(iv, env, 3) for iv in ("1h", "1m")}
        finally:
            fake.kill()
            fake.wait()
    print("| measure | value |\n|---|---|")
    print(f"| import dsm, wall over `python -c pass` | {(imp - base) * 1e3:.1f} ms |")
    print(f"| import dsm, RSS added | {rss / 1024:.2f} MiB |")
    print(f"| first DSMManager.create (loads dsm._native) | {create[0] * 1e3:.2f} ms |")
    print(f"| later DSMManager.create (median of 200) | {create[1] * 1e6:.0f} us |")
    for (name, (w, c)) in zip(("polars", "pandas", "pyarrow"), warm):
        print(f"| warm year 1m BTCUSDT -> {name} | {w * 1e3:.0f} ms (CPU {c * 1e3:.0f} ms) |")
    if host is not None:
        print(f"| warm year 1m, the host alone (dsm-bench probe fetch, Vec<Kline>) | {host * 1e3:.0f} ms |")
    for iv, (pw, pc, call, cw, cc) in cold.items():
        print(f"| cold year {iv} from the archive: python -c (import + fetch -> pandas) | "
              f"{pw * 1e3:.0f} ms (CPU {pc * 1e3:.0f} ms) |")
        print(f"| cold year {iv} from the archive: the fetch call alone (pandas already imported) | {call * 1e3:.0f} ms |")
        print(f"| cold year {iv} from the archive: dsm CLI -> Parquet (whole process) | "
              f"{cw * 1e3:.0f} ms (CPU {cc * 1e3:.0f} ms) |")
        print(f"| cold year {iv}: python process / CLI | {pw / cw:.2f} |")


if __name__ == "__main__":
    main()
