"""QR rendering: PNG and SVG renders per second, cached and uncached.

Two views. In process: `qr.render` (segno behind the bounded LRU cache) called in a loop,
uncached (every call a new short link, so every call renders) and cached (the same options
again). Over HTTP: GET /api/v1/dynamic-qrs/{short_id}/image of the real appliance, driven by
bench.loadgen at 2 connections, as many as the render pool's workers (`[qr]
render_concurrency`; one more uncached request at once would get 503 at once): cached (one
URL) and uncached (600 URLs that differ in their colour, more than the cache's 512 entries,
cycled, so every request renders).

    python -m bench.render [--seconds 3] [--quick]
"""

from __future__ import annotations

import sys
import time

from . import harness as h

NAME = "render"
SIZES = {"png": {"scale": 10}, "svg": {"scale": 10}}
HTTP_CONNECTIONS = 2  # the default render_concurrency


def in_process(seconds: float) -> list[dict]:
    h.import_app()
    from qrstudio_box.qr.render import RenderCache, parse_options

    rows = []
    for fmt in ("png", "svg"):
        for cached in (False, True):
            cache = RenderCache()
            fixed = parse_options(
                {"data": "https://qr.example.com/r/AbCdEf12", "format": fmt, **SIZES[fmt]}
            )
            cache.render(fixed)
            calls, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds:
                if cached:
                    options = fixed
                else:
                    options = parse_options(
                        {
                            "data": f"https://qr.example.com/r/{calls:08d}",
                            "format": fmt,
                            **SIZES[fmt],
                        }
                    )
                cache.render(options)
                calls += 1
            rows.append(
                {
                    "path": "in process (qr.render)",
                    "format": fmt,
                    "cache": "hit" if cached else "miss",
                    "renders/s": round(calls / elapsed, 1),
                    "mean us": round(elapsed * 1e6 / calls, 1),
                    "bytes": len(cache.render(fixed).content),
                }
            )
    return rows


def over_http(seconds: float, keep: bool) -> list[dict]:
    rows = []
    app = h.AppServer(keep=keep)
    try:
        app.start()
        short_id = app.create_qr()
        base = f"{app.base_url}/api/v1/dynamic-qrs/{short_id}/image"
        headers = {**app.token()}
        for fmt in ("png", "svg"):
            for cached in (False, True):
                if cached:
                    urls = [f"{base}?format={fmt}&scale=10"]
                else:
                    urls = [f"{base}?format={fmt}&scale=10&dark=%23{n:06x}" for n in range(1, 601)]
                result = h.load_urls(urls, HTTP_CONNECTIONS, seconds, headers=headers)
                rows.append(
                    {
                        "path": "HTTP GET .../image",
                        "format": fmt,
                        "cache": "hit" if cached else "miss",
                        "renders/s": result["rps"],
                        "p50 ms": result["p50_ms"],
                        "errors": result["errors"] + result["status_other"],
                    }
                )
    finally:
        app.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0, help="per case")
    args = p.parse_args(argv)
    seconds = 0.3 if args.quick else args.seconds
    rows = in_process(seconds) + over_http(seconds, args.keep)
    print(
        h.table(
            "QR rendering (scale 10)",
            rows,
            ["path", "format", "cache", "renders/s", "mean us", "p50 ms", "bytes", "errors"],
        )
    )
    h.write_result(args, NAME, {"rows": rows, "seconds_per_case": seconds})
    return 0


if __name__ == "__main__":
    sys.exit(main())
