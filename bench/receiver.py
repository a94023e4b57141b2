"""A fast keep-alive webhook receiver that records when each delivery arrived.

    python -m bench.receiver --port 8098

An asyncio Protocol on uvloop (when installed) parsing just enough HTTP/1.1: a receiver
built on a framework would be the bottleneck of the delivery bench instead of the sender.
Every POST is answered 200 at once, except under /hang/, where no answer ever comes (the
endpoint "times out" from the sender's side). Arrival times are time.monotonic()
(CLOCK_MONOTONIC, shared by every process of the machine), so the bench can subtract the
load generator's answer times from them. A scan.created body whose referer is
`https://bench.invalid/m/<n>` is recorded under marker n.

Control: GET /__health, GET /__stats[?detail=1], POST /__reset.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

MARKER = re.compile(rb'"referer":"https://bench\.invalid/m/(\d+)"')
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.by_prefix: dict[str, int] = {}
        self.first: float | None = None
        self.last: float | None = None
        self.markers: dict[int, float] = {}
        self.arrivals: list[float] = []
        self.bytes = 0

    def record(self, path: str, body: bytes, now: float) -> None:
        self.count += 1
        self.bytes += len(body)
        prefix = "/" + path.split("/", 2)[1] if path.count("/") >= 1 else path
        self.by_prefix[prefix] = self.by_prefix.get(prefix, 0) + 1
        if self.first is None:
            self.first = now
        self.last = now
        self.arrivals.append(now)
        found = MARKER.search(body)
        if found:
            self.markers.setdefault(int(found[1]), now)

    def summary(self, detail: bool) -> dict:
        out = {
            "count": self.count,
            "by_prefix": self.by_prefix,
            "first": self.first,
            "last": self.last,
            "bytes": self.bytes,
            "markers_seen": len(self.markers),
        }
        if detail:
            out["markers"] = self.markers
            out["arrivals"] = self.arrivals
        return out


STATE = State()


class HttpReceiver(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""
        self.hung = False

    def data_received(self, data: bytes) -> None:
        if self.hung:
            return  # a /hang/ connection: swallow everything, answer nothing
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                    break
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.handle(head, body)
            if self.hung:
                return

    def handle(self, head: bytes, body: bytes) -> None:
        now = time.monotonic()
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        path, _, query = target.partition("?")
        if path.startswith("/__"):
            self.control(method, path, query)
            return
        STATE.record(path, body, now)
        if path.startswith("/hang/"):
            self.hung = True
            return
        self.transport.write(OK)

    def control(self, method: str, path: str, query: str) -> None:
        if path == "/__stats":
            payload = json.dumps(STATE.summary("detail=1" in query)).encode()
        elif path == "/__reset" and method == "POST":
            STATE.reset()
            payload = b'{"reset":true}'
        else:
            payload = b'{"status":"ok"}'
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
            + payload
        )


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HttpReceiver, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    try:
        import uvloop  # noqa: PLC0415 - optional

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
