"""Webhook pages: list, create (secret shown once), detail with the delivery log, and the
actions Send test event, Rotate secret, Re-enable, Redeliver, Recover since…, Delete.

Every rule (plan, URL safety, signing, sending) is webhooks.service's; this module turns forms
into its calls and its answers into pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException

from ..errors import ApiError
from ..events import EVENT_TYPES
from ..webhooks import service as webhooks
from ..webhooks.policy import plan_has_webhooks
from ..webhooks.schemas import WebhookCreate, WebhookPatch
from ..webhooks.service import OUTCOMES
from . import sources
from .ui import app_ctx, current_workspace, errors_of, flash, go, page

PAGE_SIZE = 20
EVENT_HINTS = {
    "scan.created": "Every scan of one of your dynamic QRs",
    "dynamic_qr.created": "A dynamic QR was created",
    "dynamic_qr.updated": "A dynamic QR's name, destination, status or variants changed",
    "quota.threshold_75": "This month's usage reached 75% of the quota",
    "quota.threshold_100": "This month's usage reached 100% of the quota",
}


def attempt_summary(attempt: Any) -> str:
    if attempt.response_status:
        text = f"HTTP {attempt.response_status}"
    else:
        text = attempt.error or attempt.outcome
    if attempt.duration_ms is not None:
        text += f" in {attempt.duration_ms} ms"
    return text


VIEWER = {"role": "viewer"}


class WebhookPages(Controller):
    path = "/webhooks"
    # Reading needs a member (viewer); every write is the owners' (as on the API).
    opt = {"role": "owner"}

    async def _owned(self, request: Request, webhook_id: int):
        try:
            return await webhooks.get_webhook(
                app_ctx(request), current_workspace(request), webhook_id
            )
        except ApiError as error:
            if error.status_code == 404:
                raise NotFoundException("No webhook with that id") from None
            raise

    @get("/", opt=VIEWER)
    async def list_webhooks(self, request: Request) -> object:
        ctx = app_ctx(request)
        caller = current_workspace(request)
        if not plan_has_webhooks(ctx.settings, caller.plan):
            return page(
                request,
                "webhooks/list.html",
                nav="webhooks",
                hooks=[],
                plan_allows=False,
                limit=0,
                plan_contact=await sources.plan_contact(ctx, caller),
            )
        hooks = await webhooks.list_webhooks(ctx, caller)
        return page(
            request,
            "webhooks/list.html",
            nav="webhooks",
            hooks=hooks,
            plan_allows=True,
            limit=ctx.settings.plan(caller.plan).max_webhooks,
        )

    @get("/new")
    async def new_webhook(self, request: Request) -> object:
        return page(
            request,
            "webhooks/form.html",
            nav="webhooks",
            errors={},
            event_types=EVENT_TYPES,
            hints=EVENT_HINTS,
            values={"url": "", "description": "", "events": ["scan.created"]},
        )

    @post("/", status_code=200)
    async def create(self, request: Request) -> object:
        ctx = app_ctx(request)
        form = await request.form()
        values = {
            "url": (form.get("url") or "").strip(),
            "description": (form.get("description") or "").strip(),
            "events": form.getall("events", []),
        }
        try:
            created = await webhooks.create_webhook(
                ctx,
                current_workspace(request),
                WebhookCreate(
                    url=values["url"], events=values["events"], description=values["description"]
                ),
            )
        except ApiError as error:
            return page(
                request,
                "webhooks/form.html",
                nav="webhooks",
                status=error.status_code,
                errors=errors_of(error),
                event_types=EVENT_TYPES,
                hints=EVENT_HINTS,
                values=values,
            )
        # The secret appears on this response only: it is never stored in clear or shown again.
        return page(
            request,
            "webhooks/secret.html",
            nav="webhooks",
            hook=created,
            secret=created.secret,
            rotated=False,
            flash=[flash("success", "Webhook created.")],
        )

    @get("/{webhook_id:int}", opt=VIEWER)
    async def detail(
        self,
        request: Request,
        webhook_id: int,
        outcome: str | None = None,
        event: str | None = None,
        cursor: str | None = None,
        open: int | None = None,
    ) -> object:
        ctx = app_ctx(request)
        caller = current_workspace(request)
        hook = await self._owned(request, webhook_id)
        outcome = outcome if outcome in OUTCOMES else None
        event = event if event in EVENT_TYPES else None
        try:
            log = await webhooks.list_deliveries(
                ctx,
                caller,
                webhook_id,
                event=event,
                outcome=outcome,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except ApiError:
            return go(request, f"/admin/webhooks/{webhook_id}")
        details = await webhooks.get_attempts(ctx, caller, webhook_id, [a.id for a in log.results])
        query = "".join(
            f"&{urlencode({k: v})}" for k, v in (("outcome", outcome), ("event", event)) if v
        )
        return page(
            request,
            "webhooks/detail.html",
            nav="webhooks",
            hook=hook,
            attempts=details,
            outcome=outcome or "",
            event=event or "",
            event_types=EVENT_TYPES,
            outcomes=OUTCOMES,
            open_id=open,
            summary=attempt_summary,
            errors={},
            next_href=f"/admin/webhooks/{webhook_id}?cursor={log.next}{query}"
            if log.next
            else None,
            prev_href=(f"/admin/webhooks/{webhook_id}" + (f"?{query[1:]}" if query else ""))
            if cursor
            else None,
        )

    @get("/{webhook_id:int}/edit")
    async def edit_form(self, request: Request, webhook_id: int) -> object:
        hook = await self._owned(request, webhook_id)
        return page(
            request,
            "webhooks/form.html",
            nav="webhooks",
            hook=hook,
            errors={},
            event_types=EVENT_TYPES,
            hints=EVENT_HINTS,
            values={"url": hook.url, "description": hook.description, "events": hook.events},
        )

    @post("/{webhook_id:int}/edit", status_code=200)
    async def edit_submit(self, request: Request, webhook_id: int) -> object:
        ctx = app_ctx(request)
        hook = await self._owned(request, webhook_id)
        form = await request.form()
        values = {
            "url": (form.get("url") or "").strip(),
            "description": (form.get("description") or "").strip(),
            "events": form.getall("events", []),
        }
        try:
            await webhooks.update_webhook(
                ctx,
                current_workspace(request),
                webhook_id,
                WebhookPatch(
                    url=values["url"], description=values["description"], events=values["events"]
                ),
            )
        except ApiError as error:
            return page(
                request,
                "webhooks/form.html",
                nav="webhooks",
                hook=hook,
                status=error.status_code,
                errors=errors_of(error),
                event_types=EVENT_TYPES,
                hints=EVENT_HINTS,
                values=values,
            )
        return go(request, f"/admin/webhooks/{webhook_id}", ("success", "Webhook saved."))

    async def _act(
        self, request: Request, webhook_id: int, action
    ) -> tuple[Any, tuple[str, str] | None]:
        """Run a service action; an ApiError becomes an error flash on the detail page."""
        await self._owned(request, webhook_id)
        try:
            return await action(app_ctx(request), current_workspace(request)), None
        except ApiError as error:
            if error.status_code == 404:
                raise NotFoundException(str(error.detail)) from None
            return None, ("error", str(error.detail))

    @post("/{webhook_id:int}/test", status_code=303)
    async def send_test(self, request: Request, webhook_id: int) -> object:
        attempt, problem = await self._act(
            request, webhook_id, lambda ctx, caller: webhooks.send_test(ctx, caller, webhook_id)
        )
        return _attempt_answer(request, webhook_id, attempt, problem, "Test event sent")

    @post("/{webhook_id:int}/rotate", status_code=200)
    async def rotate(self, request: Request, webhook_id: int) -> object:
        rotated, problem = await self._act(
            request, webhook_id, lambda ctx, caller: webhooks.rotate_secret(ctx, caller, webhook_id)
        )
        if problem:
            return go(request, f"/admin/webhooks/{webhook_id}", problem)
        return page(
            request,
            "webhooks/secret.html",
            nav="webhooks",
            hook=rotated,
            secret=rotated.secret,
            rotated=True,
            flash=[flash("success", "Secret rotated. The old secret no longer signs deliveries.")],
        )

    @post("/{webhook_id:int}/reenable", status_code=303)
    async def reenable(self, request: Request, webhook_id: int) -> object:
        _, problem = await self._act(
            request,
            webhook_id,
            lambda ctx, caller: webhooks.reenable_webhook(ctx, caller, webhook_id),
        )
        return go(
            request,
            f"/admin/webhooks/{webhook_id}",
            problem or ("success", "Webhook re-enabled; its failure streak is cleared."),
        )

    @post("/{webhook_id:int}/disable", status_code=303)
    async def disable(self, request: Request, webhook_id: int) -> object:
        _, problem = await self._act(
            request,
            webhook_id,
            lambda ctx, caller: webhooks.update_webhook(
                ctx, caller, webhook_id, WebhookPatch(status="disabled")
            ),
        )
        return go(
            request,
            f"/admin/webhooks/{webhook_id}",
            problem or ("success", "Webhook paused: nothing is sent until you re-enable it."),
        )

    @post("/{webhook_id:int}/recover", status_code=303)
    async def recover(self, request: Request, webhook_id: int) -> object:
        since = ((await request.form()).get("since") or "").strip()
        if not since:
            return go(
                request,
                f"/admin/webhooks/{webhook_id}",
                ("error", "Choose a date and time to recover from."),
            )
        if len(since) == 16:  # datetime-local "2026-11-29T10:00", shown as UTC
            since += ":00Z"
        count, problem = await self._act(
            request,
            webhook_id,
            lambda ctx, caller: webhooks.recover(ctx, caller, webhook_id, since),
        )
        if problem:
            return go(request, f"/admin/webhooks/{webhook_id}", problem)
        text = (
            "No failed deliveries since then."
            if not count
            else f"{count} failed {'delivery' if count == 1 else 'deliveries'} queued again."
        )
        return go(request, f"/admin/webhooks/{webhook_id}", ("success" if count else "info", text))

    @post("/{webhook_id:int}/attempts/{attempt_id:int}/redeliver", status_code=303)
    async def redeliver(self, request: Request, webhook_id: int, attempt_id: int) -> object:
        attempt, problem = await self._act(
            request,
            webhook_id,
            lambda ctx, caller: webhooks.redeliver(ctx, caller, webhook_id, attempt_id),
        )
        return _attempt_answer(request, webhook_id, attempt, problem, "Redelivered")

    @post("/{webhook_id:int}/delete", status_code=303)
    async def delete(self, request: Request, webhook_id: int) -> object:
        hook = await self._owned(request, webhook_id)
        _, problem = await self._act(
            request,
            webhook_id,
            lambda ctx, caller: webhooks.delete_webhook(ctx, caller, webhook_id),
        )
        if problem:
            return go(request, f"/admin/webhooks/{webhook_id}", problem)
        return go(request, "/admin/webhooks/", ("success", f"Webhook to {hook.url} deleted."))


ROUTES = [WebhookPages]


def _attempt_answer(request: Request, webhook_id: int, attempt, problem, what: str) -> object:
    """After sending now (test, redeliver): back to the webhook with that attempt opened."""
    if problem:
        return go(request, f"/admin/webhooks/{webhook_id}", problem)
    kind = "success" if attempt.outcome == "succeeded" else "error"
    return go(
        request,
        f"/admin/webhooks/{webhook_id}?open={attempt.id}",
        (kind, f"{what}: {attempt_summary(attempt)}."),
    )
