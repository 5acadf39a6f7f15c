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


WARM = """
import json, statistics, time
import dsm, polars, pandas, pyarrow
from dsm import _convert
m = dsm.DSMManager.create("BINANCE", "SPOT")
args = ("BTCUSDT", "1m", "2023-01-01", "2024-01-01")
def t(**kw):
    out, cpu = [], []
    for _ in range(REPEAT):
        s, c = time.perf_counter(), time.process_time()
        df = m.fetch_market_data(*args, **kw)
        out.append(time.perf_counter() - s), cpu.append(time.process_time() - c)
    assert len(df) == 525600, len(df)
    return [statistics.median(out), statistics.median(cpu)]
def split():
    # The same work in steps: the native fetch (host read + hand-over into a Table), then each
    # library's construction from that Table.
    steps = {"fetch_table": [], "polars": [], "pyarrow": [], "pandas": []}
    for _ in range(REPEAT):
        s = time.perf_counter(); table = m.fetch_table(*args); steps["fetch_table"].append(time.perf_counter() - s)
        s = time.perf_counter(); _convert.to_polars(table); steps["polars"].append(time.perf_counter() - s)
        s = time.perf_counter(); _convert.to_pyarrow(table); steps["pyarrow"].append(time.perf_counter() - s)
        s = time.perf_counter(); _convert.to_pandas(table); steps["pandas"].append(time.perf_counter() - s)
    return {k: statistics.median(v) for k, v in steps.items()}
print(json.dumps([t(return_polars=True), t(), t(return_arrow=True), split()]))"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--only", default="import,create,warm,cold",
                    help="comma-separated sections (default all): import, create, warm (with the host "
                         "alone), cold")
    args = ap.parse_args()
    only = set(args.only.split(","))
    fake_bin = os.path.join(ROOT, "target/release/fake-exchange")
    if "cold" not in only and not os.path.exists(fake_bin):
        fake_bin = os.path.join(ROOT, "target/debug/fake-exchange")  # it only fills the cache then
    fake = subprocess.Popen([fake_bin, "--port", "0"], stdout=subprocess.PIPE, text=True)
    url = fake.stdout.readline().strip()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DSM_")}
        env.update({k: url for k in ENDPOINTS}, DSM_CACHE_DIR=cache)
        try:
            if "import" in only:
                base = wall([sys.executable, "-c", "pass"], env, args.repeat)
                imp = wall([sys.executable, "-c", "import dsm"], env, args.repeat)
                rss = child("""
import json
def rss():
    return int([l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0].split()[1])
b = rss(); import dsm; print(json.dumps(rss() - b))""", env)
                rows.append(("import dsm, wall over `python -c pass`", f"{(imp - base) * 1e3:.1f} ms"))
                rows.append(("import dsm, RSS added", f"{rss / 1024:.2f} MiB"))
            if "create" in only:
                create = child("""
import json, time
import dsm
t = time.perf_counter(); dsm.DSMManager.create("BINANCE", "SPOT"); first = time.perf_counter() - t
ts = []
for _ in range(200):
    t = time.perf_counter(); dsm.DSMManager.create("BINANCE", "SPOT"); ts.append(time.perf_counter() - t)
ts.sort(); print(json.dumps([first, ts[len(ts) // 2]]))""", env)
                rows.append(("first DSMManager.create (loads dsm._native)", f"{create[0] * 1e3:.2f} ms"))
                rows.append(("later DSMManager.create (median of 200)", f"{create[1] * 1e6:.0f} us"))
            if "warm" in only:
                child("""
import dsm, json
dsm.DSMManager.create("BINANCE", "SPOT").fetch_table("BTCUSDT", "1m", "2023-01-01", "2024-01-01")
print(json.dumps(0))""", env)
                *warm, steps = child(WARM.replace("REPEAT", str(max(3, args.repeat // 3))), env)
                for (name, (w, c)) in zip(("polars", "pandas", "pyarrow"), warm):
                    rows.append((f"warm year 1m BTCUSDT -> {name}", f"{w * 1e3:.0f} ms (CPU {c * 1e3:.0f} ms)"))
                rows.append(("warm year 1m, in steps: fetch_table / +polars / +pyarrow / +pandas",
                             " / ".join(f"{steps[k] * 1e3:.1f} ms" for k in ("fetch_table", "polars", "pyarrow", "pandas"))))
                host = host_alone(cache, env, max(3, args.repeat // 3))
                if host is not None:
                    rows.append(("warm year 1m, the host alone (dsm-bench probe fetch, Vec<Kline>)", f"{host * 1e3:.0f} ms"))
            if "cold" in only:
                for iv in ("1h", "1m"):
                    pw, pc, call, cw, cc = cold_year(iv, env, 3)
                    rows.append((f"cold year {iv} from the archive: python -c (import + fetch -> pandas)",
                                 f"{pw * 1e3:.0f} ms (CPU {pc * 1e3:.0f} ms)"))
                    rows.append((f"cold year {iv} from the archive: the fetch call alone (pandas already imported)",
                                 f"{call * 1e3:.0f} ms"))
                    rows.append((f"cold year {iv} from the archive: dsm CLI -> Parquet (whole process)",
                                 f"{cw * 1e3:.0f} ms (CPU {cc * 1e3:.0f} ms)"))
                    rows.append((f"cold year {iv}: python process / CLI", f"{pw / cw:.2f}"))
        finally:
            fake.kill()
            fake.wait()
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
