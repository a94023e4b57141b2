"""The render pool (`ctx.renders`): at most `[qr] render_concurrency` renders at once, each in a
worker thread, and no queue behind them.

A render is CPU-bound Python (segno: 0.2-0.5 s for the largest codes). On the event loop it
would stall every redirect for that long; in a thread it still holds the GIL most of the
time, so what bounds the harm to redirects is how many run at once. A request that finds
every worker busy gets 503 with Retry-After at once: a queue would only turn a burst into
slow answers while it holds their connections. Images already in the cache are served
without a worker.

Every route that answers an image goes through `render(options)` (or `reserve()` when it
must know that a worker is free before it writes anything: a dynamic QR from
POST /generate/ is created only when its image can be rendered).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from ..errors import ApiError
from . import rules
from .render import OptionsError, RenderCache, Rendered, RenderOptions

# A render takes well under a second: by then a worker is free again.
RETRY_AFTER_SECONDS = 1


class RenderPool:
    def __init__(self, workers: int, cache: RenderCache | None = None) -> None:
        self.workers = workers
        self.cache = cache if cache is not None else RenderCache()
        self._busy = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    @property
    def busy(self) -> int:
        """Workers reserved or rendering now."""
        return self._busy

    async def check_size(self, options: RenderOptions) -> None:
        """OptionsError naming `scale` when the image would be wider than rules.MAX_IMAGE_PX,
        decided from the QR version before anything is rendered (or `data` when it fits in no
        QR code). The version is computed off the event loop, and only for a scale that could
        go past the cap with some data."""
        if options.scale is None or not rules.may_exceed_cap(options.scale, options.border):
            return
        version = await asyncio.to_thread(
            rules.planned_version, options.data, options.error_correction
        )
        if version is None:
            raise OptionsError("data", "data: too long to fit in a QR code")
        complaint = rules.too_wide(version, options.border, options.scale)
        if complaint:
            raise OptionsError("scale", complaint)

    def reserve(self) -> RenderSlot:
        """A worker for one render, or 503 + Retry-After when all are taken."""
        with self._lock:
            if self._busy >= self.workers:
                raise ApiError(
                    503,
                    f"Busy rendering other QR codes ({self.workers} at once); "
                    f"retry in {RETRY_AFTER_SECONDS} second",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            self._busy += 1
        return RenderSlot(self)

    async def render(self, options: RenderOptions) -> Rendered:
        """The image: from the cache, else rendered by a free worker (else 503); 400
        (OptionsError) when it would be too large."""
        await self.check_size(options)
        cached = self.cache.get(options)
        if cached is not None:
            return cached
        async with self.reserve() as slot:
            return await slot.render(options)

    def close(self) -> None:
        """Stop the workers (the app's stop); a later render starts new ones."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, options: RenderOptions) -> Future[Rendered]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="qr-render")
        return self._executor.submit(self.cache.render, options)


class RenderSlot:
    """One reserved worker: `await slot.render(options)` at most once, inside `async with`.

    The worker is given back when its render has finished (not when the awaiting request
    goes away: a cancelled request's render still runs to its end in the thread), or on
    leaving the block when nothing was rendered.
    """

    def __init__(self, pool: RenderPool) -> None:
        self._pool = pool
        self._released = False
        self._future: Future[Rendered] | None = None

    async def render(self, options: RenderOptions) -> Rendered:
        if self._future is not None:
            raise RuntimeError("a render slot renders once")
        self._future = self._pool._submit(options)
        self._future.add_done_callback(lambda _: self._release())
        return await asyncio.wrap_future(self._future)

    def _release(self) -> None:
        # From the worker thread (done callback) or the loop: the pool's lock orders them.
        with self._pool._lock:
            if not self._released:
                self._released = True
                self._pool._busy -= 1

    async def __aenter__(self) -> RenderSlot:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._future is None:
            self._release()
