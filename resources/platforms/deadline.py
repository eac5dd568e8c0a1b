"""A total deadline for one HTTP request: connect, TLS, headers and the whole body together.

httpx's timeouts apply to each network operation separately: a server that sends a byte every
few seconds never trips the read timeout, and can hold a request (headers included) for as long
as it likes. The deadline is enforced one layer down instead, in the network stream httpcore
reads from: before every connect, read and write, the socket's timeout becomes the smaller of
the per-operation timeout and the time left until the deadline, and an operation that starts
after the deadline fails at once. A drip-fed body or header therefore ends within the deadline
(a blocked read wakes when the deadline passes), whatever the server does.

The deadline of the request running on this thread lives in a context variable set by
``request_deadline``, so pooled connections (which outlive one request) always read the
deadline of the request using them now. Outside ``request_deadline`` streams behave exactly as
httpcore's own.
"""

from __future__ import annotations

import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpcore
import httpx

_DEADLINE: ContextVar[float | None] = ContextVar("scout_http_deadline", default=None)


@contextmanager
def request_deadline(deadline: float) -> Iterator[None]:
    """Run the block under ``deadline``, a ``time.monotonic()`` value."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the time left before the deadline; ``expired`` once it has passed."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """httpcore's stream, with every operation bounded by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend whose connections and streams honour the deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` whose connections honour ``request_deadline``.

    httpx builds its httpcore pool without a way to pass a network backend, so the pool's
    backend is swapped right after construction (before any connection exists). The check
    makes an httpx/httpcore upgrade that renames the attribute fail loudly here, not silently
    drop the deadline; tests/test_http_limits.py proves a drip-fed request is cut.
    """
    transport = httpx.HTTPTransport()
    pool = transport._pool
    if not isinstance(getattr(pool, "_network_backend", None), httpcore.NetworkBackend):
        raise RuntimeError("httpx/httpcore changed: cannot install the request deadline on the transport")
    pool._network_backend = _DeadlineBackend()
    return transport
