"""Real webhook receivers on 127.0.0.1 for tests and benchmarks (reusable by other domains).

* ``Receiver``: a threaded HTTP or HTTPS server that records every request and answers with a
  configurable status, headers and delay. ``with Receiver() as r: ... r.url ... r.requests``.
  HTTPS: ``Receiver(tls=TlsFiles.make(tmp_path))``; point ``[webhooks] ca_bundle`` at
  ``tls.ca_file`` so the appliance trusts the test CA.
* ``GuideFlaskReceiver``: the seed guide's Flask app (tests/webhooks/guide_flask_app.py, copied
  verbatim) served for real, with its secret; ``.statuses`` lists what it answered.
* ``refused_port()``: a local port on which nothing listens (connection refused).

Each runs in its own thread, so it works beside Litestar's TestClient (which runs the app on
another event loop) and beside a real server process alike. Port 0 always: never a fixed port.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trustme

HOST = "127.0.0.1"


@dataclass
class TlsFiles:
    """A test CA and a server certificate for localhost / 127.0.0.1 (and extra names)."""

    ca: trustme.CA
    ca_file: Path
    server_cert: trustme.LeafCert

    @classmethod
    def make(cls, folder: Path, names: tuple[str, ...] = ()) -> TlsFiles:
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        ca_file = folder / "test-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        cert = ca.issue_cert("localhost", "127.0.0.1", *names)
        return cls(ca=ca, ca_file=ca_file, server_cert=cert)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_cert.configure_cert(ctx)
        return ctx


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float  # time.time()
    peer_port: int = 0  # the sender's source port: one per TCP connection (keep-alive checks)

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds slept before answering (real time: only for deadline tests)


class Receiver:
    """Records requests; answers `reply` (or `responder(request) -> Reply`, for scripted runs)."""

    def __init__(
        self,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        delay: float = 0.0,
        tls: TlsFiles | None = None,
        responder: Callable[[ReceivedRequest], Reply] | None = None,
        path: str = "/hook",
    ) -> None:
        self.reply = Reply(status=status, headers=dict(headers or {}), body=body, delay=delay)
        self.responder = responder
        self.tls = tls
        self.path = path
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Receiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real endpoint

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = ReceivedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_at=time.time(),
                    peer_port=self.client_address[1],
                )
                reply = receiver.responder(req) if receiver.responder else receiver.reply
                with receiver._arrived:
                    receiver.requests.append(req)
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    receiver._arrived.notify_all()
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._reply(reply)
                finally:
                    with receiver._arrived:
                        receiver.in_flight -= 1

            def _reply(self, reply: Reply) -> None:
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up (deadline): nothing to answer

            do_POST = do_GET = do_PUT = _handle

        server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.server_context().wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests read -------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{HOST}:{self.port}{self.path}"

    def url_for(self, host: str) -> str:
        """The same receiver under another host name (a test resolver maps it to 127.0.0.1)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{self.path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until `count` requests arrived (for real-process tests); returns them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._arrived.wait(left)
            return list(self.requests)


class GuideFlaskReceiver:
    """The guide's Flask app, verbatim, served by werkzeug on 127.0.0.1 (HTTP or HTTPS)."""

    def __init__(self, secret: str, *, tls: TlsFiles | None = None) -> None:
        self.secret = secret
        self.tls = tls
        self.statuses: list[int] = []
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> GuideFlaskReceiver:
        from werkzeug.serving import make_server

        # The guide reads its secret from the environment at import time: import a fresh copy
        # of the module with the variable set, exactly as a customer would run it.
        source = Path(__file__).with_name("guide_flask_app.py")
        spec = importlib.util.spec_from_file_location(f"guide_app_{id(self)}", source)
        module = importlib.util.module_from_spec(spec)
        previous = os.environ.get("QRSTUDIO_WEBHOOK_SECRET")
        os.environ["QRSTUDIO_WEBHOOK_SECRET"] = self.secret
        try:
            spec.loader.exec_module(module)
        finally:
            if previous is None:
                os.environ.pop("QRSTUDIO_WEBHOOK_SECRET", None)
            else:
                os.environ["QRSTUDIO_WEBHOOK_SECRET"] = previous
        app = module.app

        @app.after_request
        def _record(response):  # observe only: the guide's handler stays untouched
            self.statuses.append(response.status_code)
            return response

        ssl_ctx = self.tls.server_context() if self.tls else None
        self._server = make_server(HOST, 0, app, threaded=True, ssl_context=ssl_ctx)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> GuideFlaskReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{HOST}:{self._server.server_port}/qrstudio/webhook"


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
