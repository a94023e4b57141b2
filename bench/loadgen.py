"""A small HTTP/1.1 load generator: the fallback when wrk is missing, and the paced driver.

    python -m bench.loadgen URL [URL ...] -c 64 -d 10            closed loop, like wrk
    python -m bench.loadgen URL [URL ...] -c 32 -d 10 --rate 500 open loop at 500 requests/s

Keep-alive connections over raw asyncio streams (uvloop when installed): an HTTP client
library would cost more CPU per request than the server under test. Prints one JSON object.
Several URLs are used round-robin. In open-loop mode latency counts from the moment a request
was DUE, not when a free connection sent it, so a stalled server cannot hide its stall
(no coordinated omission), and each request slower than 15 ms is listed in "slow" with its due
time in unix ms, so a bench can line stalls up with what the server did. `--mark-referer`
gives every request a unique Referer `https://bench.invalid/m/<n>` and reports, per n, when
its answer arrived (time.monotonic(),
CLOCK_MONOTONIC: the same clock in every process of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from urllib.parse import urlsplit

MARK_PREFIX = "https://bench.invalid/m/"
SLOW_S = 0.015  # open-loop requests slower than this are listed in "slow" with their due time


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


class Connection:
    def __init__(self, host: str, port: int, headers: list[tuple[str, str]]) -> None:
        self.host, self.port = host, port
        # A Host given with -H (a branded domain's name) replaces the URL's, as wrk does.
        given = [v for k, v in headers if k.lower() == "host"]
        self.host_header = given[0] if given else f"{host}:{port}"
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers if k.lower() != "host")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str, referer: str | None = None) -> int:
        if self.writer is None:
            await self.open()
        head = f"GET {path} HTTP/1.1\r\nHost: {self.host_header}\r\n{self.extra}"
        if referer:
            head += f"Referer: {referer}\r\n"
        self.writer.write((head + "\r\n").encode())
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length, close = 0, False
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.answers: dict[int, float] = {}
        self.slow: list[tuple[int, float]] = []  # (due time in unix ms, latency ms) above SLOW_S

    def ok(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def closed_loop(targets, connections: int, duration: float, headers) -> tuple[Stats, float]:
    stats = Stats()
    deadline = time.monotonic() + duration
    paths = itertools.cycle(targets)

    async def worker() -> None:
        host, port, _ = targets[0]
        conn = Connection(host, port, headers)
        while time.monotonic() < deadline:
            path = next(paths)[2]
            started = time.monotonic()
            try:
                status = await conn.get(path)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                stats.errors += 1
                conn.close()
                continue
            stats.ok(status, time.monotonic() - started)
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return stats, time.monotonic() - started


async def open_loop(
    targets, connections: int, duration: float, rate: float, headers, mark: bool
) -> tuple[Stats, float]:
    stats = Stats()
    total = int(rate * duration)
    tickets = itertools.count()
    start = time.monotonic() + 0.05
    wall_offset = time.monotonic() - time.time()  # monotonic - wall: due times in unix ms

    async def worker() -> None:
        host, port, _ = targets[0]
        conn = Connection(host, port, headers)
        while True:
            n = next(tickets)
            if n >= total:
                break
            due = start + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            path = targets[n % len(targets)][2]
            try:
                status = await conn.get(path, f"{MARK_PREFIX}{n}" if mark else None)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                stats.errors += 1
                conn.close()
                continue
            answered = time.monotonic()
            stats.ok(status, answered - due)
            if answered - due > SLOW_S:
                stats.slow.append(
                    (int((due - wall_offset) * 1000), round((answered - due) * 1000, 2))
                )
            if mark:
                stats.answers[n] = answered
        conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return stats, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("urls", nargs="+")
    p.add_argument("-c", "--connections", type=int, default=16)
    p.add_argument("-d", "--duration", type=float, default=10.0)
    p.add_argument("-H", "--header", action="append", default=[])
    p.add_argument(
        "--rate", type=float, default=0.0, help="requests per second (open loop); 0: closed loop"
    )
    p.add_argument("--mark-referer", action="store_true")
    args = p.parse_args(argv)
    targets = []
    for url in args.urls:
        parts = urlsplit(url)
        targets.append(
            (
                parts.hostname,
                parts.port or 80,
                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            )
        )
    headers = [tuple(part.strip() for part in h.split(":", 1)) for h in args.header]
    try:
        import uvloop  # noqa: PLC0415 - optional: faster loop when installed

        uvloop.install()
    except ImportError:
        pass
    if args.rate > 0:
        stats, elapsed = asyncio.run(
            open_loop(
                targets, args.connections, args.duration, args.rate, headers, args.mark_referer
            )
        )
    else:
        stats, elapsed = asyncio.run(closed_loop(targets, args.connections, args.duration, headers))
    ms = [x * 1000 for x in stats.latencies]
    out = {
        "connections": args.connections,
        "duration_s": round(elapsed, 3),
        "requests": len(ms),
        "rps": round(len(ms) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
        "status_302": stats.statuses.get(302, 0),
        "status_2xx": sum(v for k, v in stats.statuses.items() if 200 <= k < 300),
        "status_other": sum(v for k, v in stats.statuses.items() if k >= 300 and k != 302),
        "errors": stats.errors,
        "rate": args.rate,
    }
    if args.mark_referer:
        out["answers"] = stats.answers
    if args.rate > 0:
        out["slow"] = stats.slow
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
