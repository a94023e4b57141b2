"""The dispatcher: claims due deliveries, sends them concurrently, records every attempt.

* Claim: one write transaction leases due deliveries (a lease token and an expiry) and writes
  each one's attempt row BEFORE the network call, so a crash mid-send leaves a trace and the
  lease simply expires. The single writer makes the claim atomic: two overlapping ticks can
  never lease one delivery twice for one due time.
* Caps: at most ``max_concurrency`` sends in flight, at most ``max_per_endpoint`` on the wire per
  endpoint, so one slow endpoint cannot starve the others. A healthy endpoint may hold twice that
  many leases (counted in SQL from live leases): the extra ones are claimed, signed jobs waiting
  for the endpoint's gate, so its next send starts as soon as one ends (they count against no
  slot while they wait there, so busy endpoints leave free slots to others). An endpoint on a
  failure streak gets one lease at a time, and all of those together a quarter of
  ``max_concurrency``, so endpoints that hang to the deadline cannot fill every slot.
* Slow sends: a send still unanswered after ``policy.slow_after`` (``slow_send_seconds``, or four
  times its endpoint's usual answer time) hands its slot on, into a slow pool of at most
  ``max_concurrency`` more, and its endpoint is claimed like one on a failure streak until that
  send ends. Without this, endpoints that start to hang held every slot for the 5 s deadline
  before their first failure was known, and the healthy work queued meanwhile then went out in
  one burst that stalled the scans (bench/failing_endpoints.py, docs/performance.md).
* Record: the attempt, the delivery's next step (policy.next_attempt_at) and the endpoint's
  health (policy.after_*) in one transaction, grouped with concurrent records in the writer's
  background lane (write_batched(background=True): scans go first; a test or redeliver send,
  which someone waits for, records in the foreground). After a success at an
  endpoint with due work left behind its cap, that same transaction claims its next jobs.
* Ticks come from an APScheduler interval job (every second) and from ``wake()`` after each
  commit that created deliveries; tests call ``run_due()`` on a stepped FakeClock.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets as random_tokens
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock, iso_s, unix_ms
from ..config import WebhooksSettings
from ..db import Database, Tx
from . import policy, store, transport
from .health import health_of, write_health
from .secretbox import SecretBox, SecretKeyError
from .signing import delivery_headers, redact_headers

log = logging.getLogger("qrstudio_box.webhooks")

INTERRUPTED = "Interrupted: the appliance stopped before this attempt's answer was recorded"


def unrecorded_label(status_code: int | None, send_error: str, write_error: str) -> str:
    """What happened to an attempt whose outcome could not be written down (a full disk): what
    the receiver did, and why it is not in the log. The delivery is sent again after its lease."""
    if status_code is not None:
        what = f"The receiver answered {status_code}"
    else:
        what = f"The attempt failed ({send_error})" if send_error else "The attempt failed"
    return (
        f"{what}, but the appliance could not record it ({write_error}); "
        "it is sent again, with the same event id"
    )


# A healthy endpoint's leases per send allowed on the wire (an endpoint on a failure streak gets
# one lease: nothing waits signed behind a send that may hang to the deadline).
PREFETCH = 2


@dataclass
class Job:
    """One attempt, claimed and signed, ready to go out."""

    delivery_id: int
    attempt_id: int
    webhook_id: int
    token: str
    kind: str
    attempt_number: int
    url: str
    body: bytes
    headers: dict[str, str]
    problem: str = ""  # set when the attempt cannot even be made (e.g. undecryptable secret)
    slow: bool = False  # still unanswered after policy.slow_after
    slot_handed_on: bool = False  # slow, and moved out of the slots into the slow pool


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        client: transport.DeliveryClient,
        secret_box: SecretBox,
        user_agent: str,
        limits: WebhooksSettings,
    ) -> None:
        self.db = db
        self.clock = clock
        self.client = client
        self.secret_box = secret_box
        self.user_agent = user_agent
        # [webhooks] timeout_seconds, max_concurrency, max_per_endpoint, slow_send_seconds
        self.limits = limits
        # A lease outlives the longest possible attempt, so it only expires when its holder died.
        self.lease_ms = int((limits.timeout_seconds + 30) * 1000)
        self._in_flight: set[asyncio.Task] = set()
        self._claim_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(limits.max_concurrency)
        # At most max_per_endpoint sends on the wire per endpoint; a healthy endpoint may hold
        # PREFETCH times that many leases, so the next send starts the moment one ends instead of
        # after a trip through the writer (which, under scan load, took longer than the send).
        self._gates: dict[int, asyncio.Semaphore] = {}
        self._wake_task: asyncio.Task | None = None
        self._wake_again = False
        self._backlog = False  # the last tick left due work behind for lack of free slots
        # Endpoints whose last claim left due work behind their own cap: when one of their sends
        # succeeds, the transaction recording it claims their next jobs (and only theirs).
        self._capped: set[int] = set()
        # Slow sends (module docstring) counted here; a suspect is an endpoint with a slow send
        # on the wire, mapped to how many it has.
        self._slow_sends = 0
        self._at_gates = 0  # jobs waiting at their endpoint's gate
        self._suspects: collections.Counter[int] = collections.Counter()
        self._usual_seconds: dict[int, float] = {}  # per endpoint: policy.usual_answer_time
        self._closed = False
        # delivery id -> unrecorded_label() of its attempt whose outcome could not be written;
        # the claim that next leases the delivery writes it (unless it could be written at once).
        self._unrecorded: dict[int, str] = {}

    # -- ticking -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Tick soon (coalesced: many commits in a burst make one or two ticks, not hundreds)."""
        if self._closed:
            return
        if self._wake_task is not None and not self._wake_task.done():
            self._wake_again = True
            return
        self._wake_task = asyncio.get_running_loop().create_task(self._woken())

    async def _woken(self) -> None:
        while True:
            self._wake_again = False
            try:
                await self.tick()
            except Exception:  # a failed tick must not kill wake-ups; the interval job retries
                log.exception("webhook dispatch tick failed")
            if not self._wake_again or self._closed:
                return

    async def tick(self) -> int:
        """Claim what is due now and start sending it; returns how many were claimed."""
        if self._closed:
            return 0
        async with self._claim_lock:
            # Sends that hold or wait for a slot; not those in the slow pool, nor prefetched
            # jobs waiting at their endpoint's gate (they take no slot until it lets them by).
            busy = len(self._in_flight) - self._slow_sends - self._at_gates
            free = self.limits.max_concurrency - busy
            if free <= 0:
                self._backlog = True  # asked while full: claim again as soon as a send ends
                return 0
            token = random_tokens.token_hex(8)
            jobs, self._capped = await self.db.write(
                self._claim, self.clock.now(), token, free, frozenset(self._suspects)
            )
            self._backlog = len(jobs) >= free
        for job in jobs:
            self._start(job)
        return len(jobs)

    async def run_due(self) -> int:
        """Send everything due at the clock's now and wait for every result (tests, CLI)."""
        total = 0
        while True:
            claimed = await self.tick()
            total += claimed
            if self._in_flight:
                await asyncio.gather(*list(self._in_flight), return_exceptions=True)
            elif not claimed:
                return total

    def _start(self, job: Job, background: bool = True) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(self._send(job, background))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook send failed unexpectedly", exc_info=task.exception())
        if self._backlog:  # a slot is free and due work waits for one: claim it now
            self.wake()

    # -- claim ---------------------------------------------------------------------------------

    def _claim(
        self,
        tx: Tx,
        now: datetime,
        token: str,
        limit: int,
        suspects: frozenset[int],
        only_webhook: int | None = None,
    ) -> tuple[list[Job], set[int]]:
        """(the jobs leased now, the endpoints that may have due work left behind their cap)."""
        capped: set[int] = set()
        rows = store.claim_due(
            tx,
            unix_ms(now),
            unix_ms(now) + self.lease_ms,
            token,
            self.limits.max_per_endpoint * PREFETCH,
            limit,
            failing_total=max(1, self.limits.max_concurrency // 4),
            suspects=suspects,
            only_webhook=only_webhook,
            capped=capped,
        )
        if not rows:
            return [], capped
        ids = [row["delivery_id"] for row in rows]
        labels = {i: self._unrecorded[i] for i in ids if i in self._unrecorded}
        store.interrupt_open_attempts(tx, ids, INTERRUPTED, iso_s(now), labels)
        if labels:
            tx.on_commit(lambda: [self._unrecorded.pop(i, None) for i in labels])
        return [self.prepare(tx, row, token, now) for row in rows], capped

    def prepare(self, tx: Tx, row, token: str, now: datetime) -> Job:
        """Sign (when claimed, with the CURRENT secret) and write the attempt row."""
        body = bytes(row["body"])
        problem = ""
        try:
            secret = self.secret_box.open(row["secret_sealed"])
        except SecretKeyError as error:
            secret, problem = "", f"Not sent: {error}"
        headers = (
            delivery_headers(
                secret=secret,
                body=body,
                event_id=row["event_id"],
                event_type=row["event_type"],
                delivery_id=row["delivery_id"],
                timestamp=int(now.timestamp()),
                user_agent=self.user_agent,
            )
            if secret
            else {}
        )
        attempt_number = row["attempts"] + 1
        attempt_id = store.insert_attempt(
            tx,
            row["delivery_id"],
            row["webhook_id"],
            row["event_id"],
            row["event_type"],
            attempt_number,
            json.dumps(redact_headers(headers)),
            iso_s(now),
            unix_ms(now),
        )
        return Job(
            row["delivery_id"],
            attempt_id,
            row["webhook_id"],
            token,
            row["kind"],
            attempt_number,
            row["url"],
            body,
            headers,
            problem,
        )

    # -- send and record -----------------------------------------------------------------------

    async def send(self, job: Job) -> int:
        """Send a prepared job now and record it; returns the attempt id (test, redeliver).
        Someone waits for it, so its record goes in the writer's foreground lane."""
        task = self._start(job, background=False)
        await task
        return job.attempt_id

    async def _send(self, job: Job, background: bool) -> None:
        if job.problem:
            result = transport.PostResult(None, 0, job.problem)
        else:
            gate = self._endpoint_gate(job.webhook_id)
            self._at_gates += 1
            try:
                await gate.acquire()
            finally:
                self._at_gates -= 1
            try:
                await self._slots.acquire()
                slow_after = policy.slow_after(
                    self.limits.slow_send_seconds,
                    self._usual_seconds.get(job.webhook_id),
                    self.limits.timeout_seconds,
                )
                timer = asyncio.get_running_loop().call_later(slow_after, self._went_slow, job)
                try:
                    result = await transport.post(
                        self.client,
                        job.url,
                        job.body,
                        job.headers,
                        deadline_seconds=self.limits.timeout_seconds,
                    )
                finally:
                    self._sent(job, timer)
            finally:
                gate.release()
            if result.status_code is not None:  # an answer, 2xx or not (a timeout tells nothing)
                self._usual_seconds[job.webhook_id] = policy.usual_answer_time(
                    self._usual_seconds.get(job.webhook_id), result.duration_ms / 1000
                )
        # A success at an endpoint with work waiting behind its cap: the transaction that records
        # it also claims that endpoint's next jobs (one trip through the writer per delivery,
        # not two).
        claim = None
        if result.ok and job.webhook_id in self._capped and not self._closed:
            claim = (random_tokens.token_hex(8), frozenset(self._suspects))
        try:
            failing, claimed = await self.db.write_batched(
                self._record_and_claim, job, result, self.clock.now(), claim, background=background
            )
        except Exception as error:  # the answer is known but could not be written (disk full)
            await self._unrecorded_answer(job, result, error)
            return
        if claimed is not None:
            jobs, capped = claimed
            if job.webhook_id in capped:
                self._capped.add(job.webhook_id)
            else:
                self._capped.discard(job.webhook_id)
            if not self._closed:  # close() no longer waits for new tasks; a restart re-sends
                for next_job in jobs:
                    self._start(next_job)
        if failing:  # a failing endpoint's slot (one of a shared few) is free: a tick hands it on
            self.wake()

    async def _unrecorded_answer(
        self, job: Job, result: transport.PostResult, error: Exception
    ) -> None:
        """Label the attempt for what happened, now if the database takes that small write, else
        when the delivery is next claimed (its lease runs out, and it is sent again)."""
        label = unrecorded_label(result.status_code, result.error, str(error))
        log.error("webhooks: delivery %s: %s", job.delivery_id, label)
        self._unrecorded[job.delivery_id] = label

        def write_label(tx: Tx) -> None:
            store.interrupt_open_attempts(tx, [job.delivery_id], label, iso_s(self.clock.now()))

        try:
            await self.db.write(write_label)
        except Exception:  # noqa: BLE001 - still not writable: the next claim writes it
            return
        self._unrecorded.pop(job.delivery_id, None)

    def _went_slow(self, job: Job) -> None:
        """No answer yet (policy.slow_after): its endpoint is a suspect until the send ends, and the
        send hands its slot on while the slow pool has room (so at most 2x on the wire)."""
        job.slow = True
        self._suspects[job.webhook_id] += 1
        if self._slow_sends < self.limits.max_concurrency:
            job.slot_handed_on = True
            self._slow_sends += 1
            self._slots.release()
            if self._backlog:
                self.wake()

    def _sent(self, job: Job, timer: asyncio.TimerHandle) -> None:
        timer.cancel()
        if job.slow:
            self._suspects[job.webhook_id] -= 1
            if self._suspects[job.webhook_id] <= 0:
                del self._suspects[job.webhook_id]
        if job.slot_handed_on:
            self._slow_sends -= 1
        else:
            self._slots.release()

    def _endpoint_gate(self, webhook_id: int) -> asyncio.Semaphore:
        gate = self._gates.get(webhook_id)
        if gate is None:
            gate = self._gates[webhook_id] = asyncio.Semaphore(self.limits.max_per_endpoint)
        return gate

    def _record_and_claim(
        self,
        tx: Tx,
        job: Job,
        result: transport.PostResult,
        now: datetime,
        claim: tuple[str, frozenset[int]] | None,
    ) -> tuple[bool, tuple[list[Job], set[int]] | None]:
        """Record; with `claim` (token, suspects), also claim the endpoint's next jobs."""
        failing = self._record(tx, job, result, now)
        if claim is None:
            return failing, None
        token, suspects = claim
        return failing, self._claim(
            tx,
            now,
            token,
            self.limits.max_per_endpoint * PREFETCH,
            suspects,
            only_webhook=job.webhook_id,
        )

    def _record(self, tx: Tx, job: Job, result: transport.PostResult, now: datetime) -> bool:
        """Record the attempt; True when the endpoint was or now is on a failure streak."""
        ok = result.ok
        store.finish_attempt(
            tx,
            job.attempt_id,
            "succeeded" if ok else "failed",
            result.status_code,
            result.duration_ms,
            result.error,
            json.dumps(result.response_headers),
            result.response_body,
            iso_s(now),
        )
        delivery = store.leased_delivery(tx, job.delivery_id, job.token)
        if delivery is None:  # deleted meanwhile, or our lease expired and someone else has it
            return not ok
        attempts = delivery["attempts"] + 1
        if job.kind == "test":  # a diagnostic: one attempt, no retries, no effect on health
            store.finish_delivery(
                tx,
                job.delivery_id,
                "succeeded" if ok else "failed",
                attempts,
                result.error,
                iso_s(now),
            )
            return False
        row = store.webhook_health(tx, job.webhook_id)
        if row is None:
            return False
        if ok:
            store.finish_delivery(tx, job.delivery_id, "succeeded", attempts, "", iso_s(now))
        elif row["status"] == policy.DISABLED:
            # disabled while this attempt was in flight: stop here, like its other pending ones
            store.finish_delivery(tx, job.delivery_id, "failed", attempts, result.error, iso_s(now))
        else:
            retry_after = policy.parse_retry_after(result.retry_after, now)
            due = policy.next_attempt_at(
                attempts, now, status_code=result.status_code, retry_after=retry_after
            )
            if due is None:
                store.finish_delivery(
                    tx, job.delivery_id, "failed", attempts, result.error, iso_s(now)
                )
            else:
                store.reschedule_delivery(tx, job.delivery_id, attempts, result.error, unix_ms(due))
        before = health_of(row)
        after = policy.after_success(before) if ok else policy.after_failure(before, now)
        if ok and after == before and row["last_success_at"] == iso_s(now):
            # A steady healthy endpoint: nothing to write (the common case under load, where many
            # successes share a second). Saves a write per delivery on the single writer.
            return False
        write_health(tx, job.webhook_id, before, after, now, ok)
        return before.consecutive_failures > 0 or not ok

    # -- lifecycle -----------------------------------------------------------------------------

    async def resume_after_restart(self) -> None:
        """One process owns the queue: leases held by a previous (killed) run are void now."""

        def release(tx: Tx) -> int:
            return store.release_all_leases(tx, INTERRUPTED, iso_s(self.clock.now()))

        released = await self.db.write(release)
        if released:
            log.info(
                "webhooks: %d deliveries interrupted by the last stop are queued again", released
            )

    async def close(self, grace_seconds: float | None = None) -> None:
        self._closed = True
        grace = self.limits.timeout_seconds + 1 if grace_seconds is None else grace_seconds
        pending = [task for task in (*self._in_flight, self._wake_task) if task and not task.done()]
        if pending:
            done, still = await asyncio.wait(pending, timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
