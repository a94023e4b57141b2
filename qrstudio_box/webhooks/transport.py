"""The HTTP client deliveries go through, and one POST with its outcome.

``VettingBackend`` is an httpcore network backend: httpcore asks it to connect to the URL's
host; it resolves the name itself, vets EVERY address with ``urlsafety`` and dials only a
vetted IP. httpcore still runs TLS with the original host name (SNI and certificate check), so
the check happens exactly where the connection is made: DNS rebinding between subscription time
and send time gets nothing. Redirects are never followed, environment proxies are ignored (a
proxy would make the connect-time check meaningless), a response body is read up to a cap, and
the whole exchange has one total deadline.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing
from dataclasses import dataclass, field

import httpcore
import httpx

from .policy import is_success
from .urlsafety import Resolver, UnsafeUrl, UrlPolicy, system_resolver, vet_host

RESPONSE_READ_LIMIT = 64 * 1024  # read no further than this from a response...
RESPONSE_KEEP = 4 * 1024  # ...and keep this much of it for the deliveries log
KEEPALIVE_SECONDS = 30.0


class TargetRefused(httpcore.ConnectError):
    """Raised at connect time for an address that may not be dialed."""


class VettingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: UrlPolicy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await vet_host(host, port, self.policy, self.resolver)
        except UnsafeUrl as refused:
            reason = str(refused).removeprefix("url: ")
            raise TargetRefused(f"Refused at connect time: {reason}") from None
        failure: Exception | None = None
        for address in addresses:  # a vetted address that is down: try the next vetted one
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
                if _find(exc, ConnectionRefusedError):
                    failure = httpcore.ConnectError(f"Connection refused by {address}:{port}")
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise TargetRefused("Refused at connect time: unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def build_ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The system's trust store, plus the operator's CA file when one is configured."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


@dataclass(frozen=True)
class _Target:
    """A webhook URL as httpcore wants it, parsed once (endpoints are few, sends are many)."""

    origin: httpcore.Origin
    key: tuple[bytes, bytes, int]  # httpcore.Origin is not hashable
    url: httpcore.URL
    host_header: bytes


class DeliveryClient:
    """Keep-alive HTTP/1.1 connections to webhook endpoints, one idle stack per origin.

    Built on httpcore (the engine under httpx) rather than on ``httpx.AsyncClient``: httpcore's
    connection pool matches every queued request against every connection each time one is
    queued or ends, and asks each idle socket whether it is readable, so at 16 sends in flight
    the pool alone cost about 1 ms of CPU per delivery (py-spy, docs/performance.md). Here a
    send takes the newest idle connection of its origin, or opens one, in O(1). The dispatcher's
    semaphore already bounds sends in flight, so this needs no limits of its own; idle
    connections beyond ``max_idle_per_origin`` are closed, and expired ones are swept.
    """

    def __init__(
        self,
        *,
        network_backend: httpcore.AsyncNetworkBackend,
        ssl_context: ssl.SSLContext,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        max_idle_per_origin: int = 32,
    ) -> None:
        self.network_backend = network_backend
        self.ssl_context = ssl_context
        self.keepalive_seconds = keepalive_seconds
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._targets: dict[str, _Target] = {}
        self._next_sweep = 0.0

    def target(self, url: str) -> _Target:
        found = self._targets.get(url)
        if found is None:
            parsed = httpx.URL(url)  # the same parser urlsafety vetted the URL with
            origin = httpcore.Origin(
                parsed.raw_scheme,
                parsed.raw_host,
                parsed.port or (443 if parsed.scheme == "https" else 80),
            )
            url_parts = httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            )
            found = _Target(
                origin, (origin.scheme, origin.host, origin.port), url_parts, parsed.netloc
            )
            if len(self._targets) > 4096:  # URLs change with PATCHes: don't grow without end
                self._targets.clear()
            self._targets[url] = found
        return found

    async def checkout(self, target: _Target) -> httpcore.AsyncHTTPConnection:
        await self._sweep()
        idle = self._idle.get(target.key)
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        return httpcore.AsyncHTTPConnection(
            target.origin,
            ssl_context=self.ssl_context,
            keepalive_expiry=self.keepalive_seconds,
            network_backend=self.network_backend,
        )

    async def checkin(self, connection: httpcore.AsyncHTTPConnection, target: _Target) -> None:
        idle = self._idle.setdefault(target.key, [])
        if connection.is_idle() and len(idle) < self.max_idle_per_origin:
            idle.append(connection)
        else:
            await connection.aclose()

    async def _sweep(self) -> None:
        """Close connections whose keep-alive ran out (at most once a second)."""
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        # Sort first, without awaiting (a send may check a connection in meanwhile), then close.
        expired = []
        for key, idle in list(self._idle.items()):
            keep = [c for c in idle if c.is_idle() and not c.has_expired()]
            expired += [c for c in idle if c not in keep]
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        for connection in expired:
            await connection.aclose()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                await connection.aclose()

    async def __aenter__(self) -> DeliveryClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()


def build_client(
    *,
    policy: UrlPolicy,
    resolver: Resolver = system_resolver,
    ca_bundle: str | None = None,
) -> DeliveryClient:
    return DeliveryClient(
        network_backend=VettingBackend(policy, resolver), ssl_context=build_ssl_context(ca_bundle)
    )


@dataclass
class PostResult:
    status_code: int | None
    duration_ms: int
    error: str = ""  # empty only for a 2xx
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""  # the first RESPONSE_KEEP bytes

    @property
    def ok(self) -> bool:
        return is_success(self.status_code) and not self.error

    @property
    def retry_after(self) -> str | None:
        return self.response_headers.get("retry-after")


# httpcore trace events -> the phase a timeout interrupts, as the deliveries log words it
_PHASES = {
    "connection.connect_tcp": "Connect timed out",
    "connection.start_tls": "TLS handshake timed out",
    "http11.send_request_headers": "Write timed out",
    "http11.send_request_body": "Write timed out",
    "http11.receive_response_headers": "Read timed out",
    "http11.receive_response_body": "Read timed out",
}


# Every exception httpcore raises for a failed exchange (they share no base class of their own).
_HTTP_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
)


def _find(exc: BaseException | None, kind: type) -> BaseException | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def describe_error(exc: BaseException) -> str:
    refused = _find(exc, TargetRefused)
    if refused is not None:
        return str(refused)
    tls = _find(exc, ssl.SSLError)
    if tls is not None:
        reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or str(tls)
        return f"TLS error: {reason}"
    if _find(exc, ConnectionRefusedError) or "Connection refused" in str(exc):
        return str(exc) if "Connection refused" in str(exc) else "Connection refused"
    if isinstance(exc, httpcore.RemoteProtocolError):
        return f"Protocol error: {exc}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if isinstance(exc, _HTTP_ERRORS) else text


async def post(
    client: DeliveryClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    deadline_seconds: float,
) -> PostResult:
    """POST once; every outcome is a PostResult (never raises for network trouble)."""
    phase = ["Connect timed out"]

    async def trace(event: str, info: dict) -> None:
        name = event.rsplit(".", 1)[0]
        if name in _PHASES:
            phase[0] = _PHASES[name]

    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    connection = None
    try:
        async with asyncio.timeout(deadline_seconds):
            target = client.target(url)
            connection = await client.checkout(target)
            request = httpcore.Request(
                b"POST",
                target.url,
                headers=[
                    (b"Host", target.host_header),
                    (b"Content-Length", str(len(body)).encode()),
                    *((name.encode(), value.encode()) for name, value in headers.items()),
                ],
                content=body,
                extensions={
                    "timeout": dict.fromkeys(
                        ("connect", "read", "write", "pool"), deadline_seconds
                    ),
                    "trace": trace,
                },
            )
            response = await connection.handle_async_request(request)
            try:
                kept = bytearray()
                read = 0
                async for chunk in response.aiter_stream():
                    read += len(chunk)
                    if len(kept) < RESPONSE_KEEP:
                        kept += chunk[: RESPONSE_KEEP - len(kept)]
                    if read >= RESPONSE_READ_LIMIT:
                        break  # enough: closing drops the connection instead of draining it
            finally:
                await response.aclose()
        await client.checkin(connection, target)
        connection = None
    except (TimeoutError, httpcore.TimeoutException):
        return PostResult(
            None, elapsed_ms(), f"{phase[0]} (no answer within {deadline_seconds:g} s)"
        )
    except (*_HTTP_ERRORS, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
        return PostResult(None, elapsed_ms(), describe_error(exc))
    finally:
        if connection is not None:  # it failed mid-exchange: it is not reused
            await connection.aclose()
    status = response.status
    response_headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response.headers
    }
    if is_success(status):
        error = ""
    elif 300 <= status < 400:
        where = response_headers.get("location", "")
        error = f"Redirect not followed: HTTP {status}" + (f" to {where}" if where else "")
    else:
        error = f"HTTP {status}: not a 2xx answer"
    return PostResult(status, elapsed_ms(), error, response_headers, bytes(kept))
