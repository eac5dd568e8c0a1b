"""The sandbox HTTP server: real wire formats on 127.0.0.1, so Scout's real clients run unchanged.

When no API key is configured, the Twitter and Bluesky clients point their base URL here instead
of at RapidAPI or the AppView: one code path, a different address. The server is the standard
library's ``ThreadingHTTPServer`` (no extra dependency), threaded so a ``timeout`` or ``drip`` fault
delays only its own request. Every slow write is bounded: a dripping or streaming thread stops as
soon as the client hangs up, the server stops, or the fault's cap passes, so no test can hang on it. It never reads the ``x-rapidapi-key`` header beyond accepting it, never logs
headers, and records requests without any secret-looking query parameter.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import scout_sandbox.bios as bios
import scout_sandbox.bluesky_wire as bluesky_wire
import scout_sandbox.twitter_wire as twitter_wire
from scout_sandbox.directory import Directory
from scout_sandbox.faults import Fault, FaultQueue, faulty_reply
from scout_sandbox.pool import PLATFORMS
from scout_sandbox.replies import AffectedRow, Drip, Params, Reply
from scout_sandbox.row_faults import ROW_KINDS, FaultedRequest, apply_row_fault
from scout_sandbox.synthetic import SyntheticProfile

logger = logging.getLogger(__name__)

SHAPE_HEADER = "x-sandbox-shape"
# Query parameters that look like credentials are dropped from the request log ("keyword" is kept).
_SECRET_NAMES = frozenset(
    {"key", "apikey", "api_key", "token", "access_token", "secret", "password", "auth", "sig"}
)
_SECRET_SUFFIXES = ("_key", "-key", "apikey", "token", "secret", "password")
_Endpoint = Callable[[Directory, Params, str], Reply]
ROUTES: dict[str, tuple[str, _Endpoint]] = {
    "/api/search/people": ("twitter", twitter_wire.search_people),
    "/api/user/detail": ("twitter", twitter_wire.user_detail),
    "/xrpc/app.bsky.actor.searchActors": ("bluesky", lambda d, p, _shape: bluesky_wire.search_actors(d, p)),
    "/xrpc/app.bsky.actor.getProfiles": ("bluesky", lambda d, p, _shape: bluesky_wire.get_profiles(d, p)),
}


@dataclass(frozen=True)
class SandboxRequest:
    """One API request the sandbox served (control requests under /_sandbox/ are not recorded).

    ``status`` is 0 when a ``down`` fault reset the connection; ``affected`` lists the rows a row
    fault spoiled (position in the page, defect, account id)."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    fault: str | None
    affected: tuple[AffectedRow, ...] = ()


def platform_of(path: str) -> str:
    return "bluesky" if path.startswith("/xrpc/") else "twitter"


class SandboxServer:
    """A sandbox on ``host:port`` (port 0 = any free port) serving ``pool_size`` accounts per platform."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, pool_size: int = 4000, twitter_shape: str = "mixed"
    ) -> None:
        _check_shape(twitter_shape, "twitter_shape")
        self.host, self._port = host, port
        self.twitter_shape = twitter_shape
        self.directory = Directory(pool_size)
        self._faults = FaultQueue()
        self._log_lock = threading.Lock()
        self._requests: list[SandboxRequest] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            raise RuntimeError(f"sandbox already running at {self.base_url}")
        self._stopping.clear()
        self._httpd = _HTTPServer((self.host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="scout-sandbox", daemon=True
        )  # a short poll interval: stop() returns in ~50 ms instead of ~0.5 s (once per test)
        self._thread.start()
        # Build the pools' indexes in the background so the first search does not pay for it.
        threading.Thread(target=self._warm, name="scout-sandbox-warm", daemon=True).start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes requests sleeping in a timeout fault
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("sandbox is not running: call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- test controls -------------------------------------------------------------------------
    def inject(self, path_prefix: str, *faults: Fault) -> None:
        """Queue ``faults`` for the next requests whose path starts with ``path_prefix`` (FIFO)."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"inject({path_prefix!r}): expected Fault objects, got {fault!r}")
        self._faults.push(path_prefix, faults)

    def reset(self) -> None:
        """Forget queued faults, recorded requests and renames."""
        self._faults.clear()
        self.directory.clear_renames()
        with self._log_lock:
            self._requests.clear()

    def rename(self, platform: str, platform_id: str, new_handle: str) -> SyntheticProfile:
        return self.directory.rename(platform, platform_id, new_handle)

    @property
    def requests(self) -> list[SandboxRequest]:
        with self._log_lock:
            return list(self._requests)

    @property
    def pending_faults(self) -> list[tuple[str, Fault]]:
        return self._faults.pending()

    # -- serving -------------------------------------------------------------------------------
    def answer(self, method: str, path: str, params: Params, shape_header: str | None) -> Reply:
        """The normal reply to one API request: a pure function of the request and this server's renames."""
        route = ROUTES.get(path)
        if route is None:
            return Reply(404, {"error": "NotFound", "message": f"no endpoint at {path}"})
        if method not in {"GET", "HEAD"}:
            return Reply(405, {"error": "MethodNotAllowed", "message": f"{method} is not allowed on {path}"})
        shape = self.twitter_shape
        if shape_header is not None:
            try:
                shape = _check_shape(shape_header.strip().lower(), f"header {SHAPE_HEADER}")
            except ValueError as exc:
                return Reply(400, {"error": "InvalidRequest", "message": str(exc)})
        return route[1](self.directory, params, shape)

    def serve(
        self, method: str, path: str, params: Params, shape_header: str | None
    ) -> tuple[Reply, str | None]:
        fault = self._faults.take(path)
        if fault is not None and fault.kind == "timeout":
            self._stopping.wait(fault.seconds)
        reply = self.answer(method, path, params, shape_header)
        if fault is None:
            return reply, None
        if fault.kind in ROW_KINDS:
            shape = (shape_header or self.twitter_shape).strip().lower()
            request = FaultedRequest(
                path, params, shape, self.directory, lambda p: self.answer(method, path, p, shape_header)
            )
            reply = apply_row_fault(fault, reply, request)
        elif fault.kind == "drip":
            reply = replace(reply, drip=Drip(fault.chunk, fault.interval, fault.seconds))
        else:
            reply = faulty_reply(fault, reply, platform_of(path))
        return reply, fault.kind

    def record(
        self,
        method: str,
        path: str,
        params: Params,
        status: int,
        fault: str | None,
        affected: tuple[AffectedRow, ...] = (),
    ) -> None:
        query = {k: list(v) for k, v in params.items() if not _looks_secret(k)}
        with self._log_lock:
            self._requests.append(SandboxRequest(method, path, query, status, fault, affected))

    @property
    def stopping(self) -> threading.Event:
        """Set while the server shuts down: slow writers (drip, stream) give up when it is."""
        return self._stopping

    def control(self, method: str, path: str, body: bytes) -> Reply:
        """The /_sandbox/ endpoints, for tests and demos driving a sandbox in another process."""
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return Reply(400, {"error": "InvalidRequest", "message": f"{path}: body is not JSON ({exc})"})
        try:
            if (method, path) == ("POST", "/_sandbox/faults"):
                if not isinstance(data, dict) or not isinstance(data.get("path"), str):
                    raise ValueError('/_sandbox/faults: body needs "path" (string) and "faults" (list)')
                items = data.get("faults")
                if not isinstance(items, list):
                    raise ValueError('/_sandbox/faults: "faults" must be a list of {"kind": ...} objects')
                faults = tuple(Fault.from_json(item, f"faults[{i}]") for i, item in enumerate(items))
                self.inject(data["path"], *faults)
                return Reply(200, {"queued": len(faults), "pending": len(self.pending_faults)})
            if (method, path) == ("POST", "/_sandbox/reset"):
                self.reset()
                return Reply(200, {"reset": True})
            if (method, path) == ("POST", "/_sandbox/rename"):
                if not isinstance(data, dict):
                    raise ValueError('/_sandbox/rename: body must be {"platform", "platform_id", "handle"}')
                missing = [
                    k for k in ("platform", "platform_id", "handle") if not isinstance(data.get(k), str)
                ]
                if missing:
                    raise ValueError(f"/_sandbox/rename: missing or non-string field(s) {missing}")
                profile = self.rename(data["platform"], data["platform_id"], data["handle"])
                return Reply(200, {"platform_id": profile.platform_id, "handle": profile.handle})
            if (method, path) == ("GET", "/_sandbox/requests"):
                return Reply(200, {"requests": [asdict(r) for r in self.requests]})
            if (method, path) == ("GET", "/_sandbox/health"):
                return Reply(
                    200,
                    {"ok": True, "pool_size": self.directory.pool_size, "twitter_shape": self.twitter_shape},
                )
        except ValueError as exc:
            return Reply(400, {"error": "InvalidRequest", "message": str(exc)})
        return Reply(404, {"error": "NotFound", "message": f"no control endpoint {method} {path}"})

    def _warm(self) -> None:
        for platform in PLATFORMS:
            if self._stopping.is_set():
                return
            self.directory.pool(platform).warm()
        bios.warm()


def _looks_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)


def _check_shape(shape: str, what: str) -> str:
    if shape not in twitter_wire.SHAPES:
        raise ValueError(f"{what} {shape!r} is not one of {twitter_wire.SHAPES}")
    return shape


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: SandboxServer
    ):
        self.sandbox = sandbox
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so httpx's connection pool behaves as against a real API
    # Headers and body leave in two writes; with Nagle on, each keep-alive response would wait
    # ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "ScoutSandbox/1"
    sys_version = ""
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: no query string, and never headers (where the API key travels).
        logger.debug("sandbox: %s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("sandbox: " + format, *args)

    def _serve(self, method: str) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if url.path.startswith("/_sandbox/"):
            self._write(method, sandbox.control(method, url.path, body))
            return
        try:
            reply, fault = sandbox.serve(method, url.path, params, self.headers.get(SHAPE_HEADER))
        except Exception as exc:  # a sandbox bug must show up as a 500, not as a hung client
            logger.exception("sandbox: error answering %s %s", method, url.path)
            reply, fault = Reply(500, {"error": "SandboxBug", "message": type(exc).__name__}), None
        sandbox.record(method, url.path, params, reply.status, fault, reply.affected)
        if reply.reset:
            self._reset()
        else:
            self._write(method, reply)

    def _reset(self) -> None:
        """Answer nothing: close with SO_LINGER 0, so the client gets a TCP RST (ECONNRESET)."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _write(self, method: str, reply: Reply) -> None:
        body = b"" if reply.stream is not None else reply.body()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method == "HEAD":
                return
            if reply.stream is not None:
                self._write_chunked(reply.stream())
            elif reply.drip is not None:
                self._write_dripping(body, reply.drip)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout fired during a timeout fault): nothing to answer.
            self.close_connection = True

    def _write_chunked(self, chunks: Iterator[bytes]) -> None:
        stopping = self.server.sandbox.stopping
        for chunk in chunks:
            if stopping.is_set():
                self.close_connection = True
                return
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def _write_dripping(self, body: bytes, drip: Drip) -> None:
        """A few bytes, a pause, a few bytes...; the honest Content-Length keeps the client waiting.

        Ends when the body is out, the client hangs up (a write fails), the server stops, or
        ``drip.cap`` seconds have passed; in the last two cases the connection is closed mid-body.
        """
        stopping = self.server.sandbox.stopping
        deadline = time.monotonic() + drip.cap
        for start in range(0, len(body), drip.chunk):
            if start and (stopping.wait(drip.interval) or time.monotonic() >= deadline):
                self.close_connection = True
                return
            self.wfile.write(body[start : start + drip.chunk])
