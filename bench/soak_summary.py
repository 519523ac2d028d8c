#!/usr/bin/env python3
"""Summarises bench/soak.sh's samples (soak.csv) into soak.md.

RSS: the first sample after warm-up is the baseline (warm-up: the first
5 minutes, or the first sixth of a shorter run: the agent's maps, windows,
SQLite page cache and allocator arenas fill during it). Growth is last vs
baseline; the band is the largest distance of any later sample from it.

Database: the main file is bounded when it stops growing once the raw
retention has passed (rollup rows still trickle in, bounded by their own
longer retentions); the WAL is reported apart, since checkpoints bound it;
the raw row count is compared with what the retention allows (known devices
x retention / tick).
"""
import argparse
import csv
import re
import sys


def seconds(duration: str) -> int:
    m = re.fullmatch(r"(\d+)([smhd]?)", duration.strip())
    if not m:
        raise ValueError(f"cannot read duration {duration!r} (expected e.g. 300s, 5m, 1h)")
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def as_int(value: str):
    try:
        return int(value)
    except ValueError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("md")
    ap.add_argument("--raw-retention", default="10m")
    ap.add_argument("--event-retention", default="10m")
    ap.add_argument("--devices", type=int, default=6)
    ap.add_argument("--guests", type=int, default=8)
    args = ap.parse_args()

    with open(args.csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if as_int(r["rss_kb"])]
    if len(rows) < 2:
        print("soak_summary: fewer than two samples; nothing to summarise", file=sys.stderr)
        return 1
    elapsed = [int(r["elapsed_s"]) for r in rows]
    rss = [int(r["rss_kb"]) for r in rows]
    # The main file is what retention bounds; the WAL is bounded separately
    # by SQLite's checkpoints (it is reused from its start after each one).
    db_file = [int(r["db_bytes"]) for r in rows]
    wal = [int(r["wal_bytes"]) for r in rows]
    duration = elapsed[-1]
    warmup = min(300, duration // 6)
    base_i = next(i for i, t in enumerate(elapsed) if t >= warmup)
    base = rss[base_i]
    after = rss[base_i:]
    growth = 100.0 * (rss[-1] - base) / base
    band = max(abs(v - base) for v in after) * 100.0 / base

    raw_s = seconds(args.raw_retention)
    # The database is judged over the time after the raw retention has
    # passed once (plus a maintenance period): before that it must grow.
    settle = raw_s + 120
    settled = [(t, v) for t, v in zip(elapsed, db_file) if t >= settle]
    raw_rows = [as_int(r["usage_raw_rows"]) for r in rows]
    max_devices = args.devices + args.guests
    raw_bound = max_devices * raw_s  # one row per device per 1 s tick at most

    def mib(b):
        return f"{b / 1048576:.2f} MiB" if b >= 1048576 else f"{b / 1024:.0f} kB"

    lines = [
        "# Soak: RSS and database size over time",
        "",
        f"`bench/soak.sh`: {duration // 60} min {duration % 60} s on the namespace LAN with the real eBPF datapath;"
        f" {args.devices} resident devices (2 heavy flows at 40 Mbit/s, a spiky one, a stream, pingers),"
        f" guests joining and leaving every 30 s from a pool of {args.guests} addresses, a resident link down/up"
        " every 30 s, a priority change through the API every 3 s.",
        f"Raw samples kept for {args.raw_retention} and events for {args.event_retention}"
        " (shortened from 1 day and 730 days so pruning shows within the run). Samples every 10 s in `soak.csv`.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| samples | {len(rows)} |",
        f"| RSS first sample | {rss[0]} kB |",
        f"| RSS after warm-up ({warmup} s, baseline) | {base} kB |",
        f"| RSS last | {rss[-1]} kB |",
        f"| RSS max | {max(rss)} kB |",
        f"| RSS growth last vs baseline | {growth:+.2f} % |",
        f"| RSS largest distance from baseline after warm-up | {band:.2f} % |",
        f"| RSS flat within 5 % after warm-up | {'yes' if band <= 5.0 else 'no'} |",
        f"| DB file first / last / max | {mib(db_file[0])} / {mib(db_file[-1])} / {mib(max(db_file))} |",
        f"| WAL max (reset by checkpoints) | {mib(max(wal))} |",
    ]
    if settled:
        lo = min(v for _, v in settled)
        hi = max(v for _, v in settled)
        first_t, first_v = settled[0]
        last_t, last_v = settled[-1]
        lines.append(f"| DB file from {settle} s (raw retention + 2 min) on: min / max | {mib(lo)} / {mib(hi)} |")
        lines.append(f"| DB file change over those {last_t - first_t} s | {(last_v - first_v) / 1024:+.0f} kB"
                     f" (before: {(first_v - db_file[0]) / 1024:+.0f} kB in {first_t} s) |")
    else:
        lines.append(f"| DB file after raw retention | run shorter than {settle} s: not judged |")
    known = [r for r in raw_rows if r is not None]
    if known:
        lines.append(f"| usage_raw rows last / max (bound: {max_devices} devices x {raw_s} s = {raw_bound}) |"
                     f" {known[-1]} / {max(known)} |")
    for col, label in (("usage_minute_rows", "usage_minute rows last"), ("event_rows", "event rows last"),
                       ("devices_known", "devices known to the agent last"),
                       ("api_changes", "priority changes sent through the API"),
                       ("api_accepted", "priority changes the API accepted"), ("churn_steps", "churn steps")):
        lines.append(f"| {label} | {rows[-1][col]} |")
    lines += ["", "Every minute:", "", "| t (min) | RSS kB | DB file kB | WAL kB | raw rows | events |", "|---|---|---|---|---|---|"]
    for r in rows:
        t = int(r["elapsed_s"])
        if t % 60 < 10:
            lines.append(f"| {t // 60} | {r['rss_kb']} | {int(r['db_bytes']) // 1024} | {int(r['wal_bytes']) // 1024} |"
                         f" {r['usage_raw_rows']} | {r['event_rows']} |")
    with open(args.md, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:22]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
