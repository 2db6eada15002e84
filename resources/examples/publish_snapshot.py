#!/usr/bin/env python3
"""Publish a strategy's state to Kestrel from any Python process.

Kestrel shows every process that writes a valid snapshot into <data>/monitor/ (schema:
resources/snapshot.schema.json). Write the whole file to a temporary name and rename it
over the old one, so Kestrel never reads half a file.

    python3 publish_snapshot.py --data-dir ~/.kestrel --variant my-grid

This example publishes the 15-minute bars it builds from the 1-minute closes it is given on
stdin (one "YYYY-MM-DD HH:MM:SS,close" per line), or, with no stdin, a short fixed series.
"""
import argparse
import datetime as dt
import json
import os
import sys
import tempfile


def window_bars(rows, minutes=15):
    bars = []
    for stamp, close in rows:
        t = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        start = t.replace(minute=t.minute - t.minute % minutes, second=0)
        # Kestrel's bar time: the exchange-local datetime read as if it were UTC, in seconds.
        key = int(start.replace(tzinfo=dt.timezone.utc).timestamp())
        if bars and bars[-1]["time"] == key:
            b = bars[-1]
            b["high"], b["low"], b["close"] = max(b["high"], close), min(b["low"], close), close
            b["volume"] += 1
        else:
            bars.append({"time": key, "open": close, "high": close, "low": close, "close": close, "volume": 1})
    return bars[-500:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--vt-symbol", default="BTCUSDT.BINANCE")
    args = ap.parse_args()

    if sys.stdin.isatty():
        rows = [("2024-03-01 10:%02d:00" % m, 100.0 + (m % 7) - (m % 3)) for m in range(45)]
    else:
        rows = [(s, float(c)) for s, c in (line.strip().split(",") for line in sys.stdin if line.strip())]

    bars = window_bars(rows)
    snapshot = {
        "version": 1,
        "variant": args.variant,
        "strategy": "python-example",
        "status": "running",
        "source": "external",
        "pid": os.getpid(),
        "updatedAt": dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "instruments": [{
            "vtSymbol": args.vt_symbol,
            "windowMinutes": 15,
            "bars": bars,
            "lastBarAt": rows[-1][0] if rows else None,
        }],
    }
    monitor = os.path.join(args.data_dir, "monitor")
    os.makedirs(monitor, exist_ok=True)
    target = os.path.join(monitor, "snapshot_%s.json" % args.variant)
    fd, tmp = tempfile.mkstemp(dir=monitor, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(snapshot, f)
    os.replace(tmp, target)
    print(target)


if __name__ == "__main__":
    main()
