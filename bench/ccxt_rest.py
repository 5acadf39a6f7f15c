#!/usr/bin/env python3
"""The ccxt side of dsm-bench: the same REST work as dsm's, done by ccxt.

Fetches [start, end) of 1m candles of one USD-M symbol from the fake exchange with
ccxt.binanceusdm, paging, and prints one JSON line:

    {"import_s": ..., "create_s": ..., "fetch_s": ..., "candles": N, "requests": N,
     "first": ms, "last": ms, "ccxt": "4.5.90", "rate_limit": true|false}

Run by dsm-bench (see BENCHMARKS.md); by hand:

    python3 bench/ccxt_rest.py --url http://127.0.0.1:PORT --start-ms 1709251200000 \
        --end-ms 1711843200000 [--no-rate-limit]

Nothing goes to the internet: every ccxt URL of the USD-M API is pointed at the fake, and
the market is set by hand, so ccxt never loads markets (fetch_ohlcv loads them only when
none are set). Two modes:
- ohlcv (default): fetch_ohlcv(symbol, "1m", since, 1000, {"until": end - 1}), as a ccxt
  user writes it. ccxt caps a fetch_ohlcv page at 1000 candles on Binance (it truncates
  the answer to min(limit, 1000) even when the request asks for 1500), so 30 days take 44
  requests of weight 5.
- raw: ccxt's implicit API fapiPublicGetKlines(limit=1500) and parse_ohlcvs, so that ccxt
  makes the same 29 requests of weight 10 as dsm.
Any error (a 429 included: ccxt raises DDoSProtection / RateLimitExceeded and
does not retry) ends the script with status 1: such a run does not count.
"""

import argparse
import json
import sys
import time

T0 = time.perf_counter()
import ccxt  # noqa: E402

IMPORT_S = time.perf_counter() - T0

SYMBOL = "BTC/USDT:USDT"


def market(symbol_id):
    """A minimal ccxt market for a USD-M perpetual, enough for fetch_ohlcv."""
    base, quote = symbol_id[:-4], symbol_id[-4:]
    return {
        "id": symbol_id,
        "symbol": f"{base}/{quote}:{quote}",
        "base": base,
        "quote": quote,
        "settle": quote,
        "baseId": base,
        "quoteId": quote,
        "settleId": quote,
        "type": "swap",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "index": False,
        "active": True,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": 1.0,
        "expiry": None,
        "expiryDatetime": None,
        "strike": None,
        "optionType": None,
        "taker": 0.0005,
        "maker": 0.0002,
        "precision": {"amount": 0.001, "price": 0.1},
        "limits": {
            "leverage": {"min": None, "max": None},
            "amount": {"min": 0.001, "max": None},
            "price": {"min": None, "max": None},
            "cost": {"min": None, "max": None},
        },
        "created": None,
        "info": {},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="fake exchange base URL")
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--start-ms", type=int, required=True)
    ap.add_argument("--end-ms", type=int, required=True)
    ap.add_argument(
        "--mode",
        choices=["ohlcv", "raw"],
        default="ohlcv",
        help="ohlcv: fetch_ohlcv (ccxt caps a page at 1000 candles on Binance); "
        "raw: the implicit API fapiPublicGetKlines with limit 1500 + parse_ohlcvs",
    )
    ap.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="disable ccxt's own request throttle (enableRateLimit=False)",
    )
    args = ap.parse_args()

    t = time.perf_counter()
    ex = ccxt.binanceusdm({"enableRateLimit": not args.no_rate_limit})
    base = args.url.rstrip("/")
    for key, url in list(ex.urls["api"].items()):
        if isinstance(url, str) and "fapi.binance.com" in url:
            ex.urls["api"][key] = base + url.split("fapi.binance.com", 1)[1]
    ex.set_markets([market(args.symbol)])
    create_s = time.perf_counter() - t

    step = 60_000
    rows = []
    requests = 0
    since = args.start_ms
    t = time.perf_counter()
    mkt = ex.market(SYMBOL)
    while since < args.end_ms:
        if args.mode == "ohlcv":
            page = ex.fetch_ohlcv(SYMBOL, "1m", since, 1000, {"until": args.end_ms - 1})
        else:
            raw = ex.fapiPublicGetKlines(
                {
                    "symbol": mkt["id"],
                    "interval": "1m",
                    "startTime": since,
                    "endTime": args.end_ms - 1,
                    "limit": 1500,
                }
            )
            page = ex.parse_ohlcvs(raw, mkt, "1m", since, 1500)
        requests += 1
        page = [r for r in page if r[0] < args.end_ms]
        if not page:
            break
        rows.extend(page)
        since = page[-1][0] + step
    fetch_s = time.perf_counter() - t

    print(
        json.dumps(
            {
                "import_s": IMPORT_S,
                "create_s": create_s,
                "fetch_s": fetch_s,
                "candles": len(rows),
                "requests": requests,
                "first": rows[0][0] if rows else None,
                "last": rows[-1][0] if rows else None,
                "ccxt": ccxt.__version__,
                "rate_limit": not args.no_rate_limit,
                "mode": args.mode,
            }
        )
    )


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a 429 included: the run does not count
        print(f"ccxt_rest.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
