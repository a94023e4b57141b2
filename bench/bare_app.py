"""The baseline: a bare Litestar app answering the same 302 as GET /r/{short_id}, and nothing else.

Served by uvicorn with exactly the settings `qrstudio-box run` uses (qrstudio_box/cli.py,
cmd_run): one process, lifespan on, no proxy headers, no server header, no access log, no
log config; uvicorn picks uvloop and httptools by itself in both. So the ratio of the real
redirect to this one is the cost of our own work: lookup, variant pick, user-agent parse and
the durable, group-committed scan insert.

    python -m bench.bare_app --port 8099
"""

from __future__ import annotations

import argparse

import uvicorn
from litestar import Litestar, Response, get

NO_STORE = {"Cache-Control": "no-store"}


@get("/r/{short_id:str}")
async def redirect(short_id: str) -> Response:
    return Response(
        b"", status_code=302, headers={"Location": "https://example.com/menu", **NO_STORE}
    )


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[redirect, healthz], debug=False, logging_config=None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=args.port,
            workers=None,
            reload=False,
            lifespan="on",
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=5,
        )
    ).run()


if __name__ == "__main__":
    main()
