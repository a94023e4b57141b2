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
                    address, port, timeout=timeout, local_address=local_address,
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


def build_client(
    *,
    policy: UrlPolicy,
    resolver: Resolver = system_resolver,
    ca_bundle: str | None = None,
    max_connections: int = 100,
) -> httpx.AsyncClient:
    ssl_context = build_ssl_context(ca_bundle)
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, retries=0)
    # httpx has no public knob for the network backend; its transport is a thin wrapper around
    # an httpcore pool, so we give it a pool built on our backend (checked by the rebinding test).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
        http1=True,
        http2=False,
        retries=0,
        network_backend=VettingBackend(policy, resolver),
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)


@dataclass
class PostResult:
    status_code: int | None
    duration_ms: int
    error: str = ""  # empty only for a 2xx
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""  # the first RESPONSE_KEEP bytes

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error

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
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"Protocol error: {exc}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if isinstance(exc, httpx.HTTPError) else text


async def post(
    client: httpx.AsyncClient,
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

    try:
        async with asyncio.timeout(deadline_seconds):
            request = client.build_request(
                "POST", url, content=body, headers=headers,
                timeout=httpx.Timeout(deadline_seconds), extensions={"trace": trace},
            )
            response = await client.send(request, stream=True)
            try:
                kept = bytearray()
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if len(kept) < RESPONSE_KEEP:
                        kept += chunk[: RESPONSE_KEEP - len(kept)]
                    if read >= RESPONSE_READ_LIMIT:
                        break  # enough: closing drops the connection instead of draining it
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return PostResult(None, elapsed_ms(), f"{phase[0]} (no answer within {deadline_seconds:g} s)")
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        return PostResult(None, elapsed_ms(), describe_error(exc))
    status = response.status_code
    response_headers = {k.lower(): v for k, v in response.headers.items()}
    if 200 <= status < 300:
        error = ""
    elif 300 <= status < 400:
        where = response_headers.get("location", "")
        error = f"Redirect not followed: HTTP {status}" + (f" to {where}" if where else "")
    else:
        error = f"HTTP {status}: not a 2xx answer"
    return PostResult(status, elapsed_ms(), error, response_headers, bytes(kept))
