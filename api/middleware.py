"""The service's HTTP hardening in one place (issue 20, docs/service.md "Security").

- `SecurityHeaders`: every answer carries a Content-Security-Policy of 'self' (no inline script or
  style anywhere: the pages' scripts live under /static, /docs included), `frame-ancestors 'none'`
  (no other site may frame a page), `X-Content-Type-Options: nosniff` and `Referrer-Policy:
  no-referrer`; every /v1 answer is `Cache-Control: no-store` (answers with pay must not stay in
  a shared or browser cache).
- `HeadAsGet`: HEAD is answered wherever GET is, as the GET without its body (RFC 9110 §9.3.2).
- `ReadTimeoutH11Protocol`: uvicorn's HTTP/1.1 protocol with a deadline for reading each request
  (head and body): a client that sends a byte every few seconds, or connects and sends nothing, is
  disconnected once `request_read_timeout_s` has passed, instead of holding a connection forever.
- `scrub_access_log`: uvicorn's access log never prints a query string that carries a token.

The trusted hosts (COMPTUNE_ALLOWED_HOSTS) are Starlette's `TrustedHostMiddleware`, added in
api/main.py; the app makes no redirect at all (`redirect_slashes=False`), so no answer builds a
URL from the Host header.
"""

from __future__ import annotations

import logging
import re

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Add the security headers to every HTTP answer, and `Cache-Control: no-store` to /v1 ones."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api = scope.get("path", "").startswith("/v1")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {name for name, _ in SECURITY_HEADERS}]
                headers += SECURITY_HEADERS
                if api:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"] + [NO_STORE]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Answer HEAD as GET without the body (headers, Content-Length included, as the GET's)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            return await self.app(scope, receive, send)

        async def send_without_body(message):
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        return await self.app({**scope, "method": "GET"}, receive, send_without_body)


# ---------------------------------------------------------------------------------------------
# uvicorn


class ReadTimeoutH11Protocol(H11Protocol):
    """H11Protocol with a deadline for reading each request: from the connection (or the end of
    the previous answer) until the request's last body byte. Past it, a connection whose request
    is still incomplete is closed (with a 408 when nothing has been answered on it yet). uvicorn's
    own keep-alive timeout only covers a connection idle after an answer, never a request that
    trickles in."""

    read_timeout_s: float = 10.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_read_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._cancel_read_deadline()  # the whole request is in (or the connection is done)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_read_deadline()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def _start_read_deadline(self) -> None:
        self._cancel_read_deadline()
        self._read_deadline = self.loop.call_later(self.read_timeout_s, self._read_timed_out)

    def _cancel_read_deadline(self) -> None:
        handle = getattr(self, "_read_deadline", None)
        if handle is not None:
            handle.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            return
        started = self.cycle is not None and self.cycle.response_started
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE and not started:
            try:  # nothing read of a request yet, or only part of its head: say why, then close
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            except Exception:  # pragma: no cover - the peer is gone already
                pass
        logging.getLogger("uvicorn.error").info("request not received within %.0f s; connection closed",
                                                self.read_timeout_s)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()


def read_timeout_protocol(seconds: float) -> type[ReadTimeoutH11Protocol]:
    """The protocol class for uvicorn's `http=` with a read deadline of `seconds`."""
    return type("ReadTimeoutH11Protocol", (ReadTimeoutH11Protocol,), {"read_timeout_s": float(seconds)})


# ---------------------------------------------------------------------------------------------
# The access log

_TOKEN = re.compile(r"ct_[A-Za-z0-9_\-]+")


class ScrubTokens(logging.Filter):
    """Drop the query string of every access-log line whose query carries a token (`token=` or a
    `ct_` bearer token), and mask any `ct_…` token left in the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            path = str(args[2])
            target, _, query = path.partition("?")
            if query and ("token" in query.lower() or _TOKEN.search(query)):
                args[2] = target + "?[query removed: it held a token]"
            args[2] = _TOKEN.sub("ct_[removed]", str(args[2]))
            record.args = tuple(args)
        record.msg = _TOKEN.sub("ct_[removed]", str(record.msg))
        return True


def scrub_access_log() -> None:
    """Install `ScrubTokens` on uvicorn's access logger (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, ScrubTokens) for f in logger.filters):
        logger.addFilter(ScrubTokens())


__all__ = ["CSP", "HeadAsGet", "ReadTimeoutH11Protocol", "ScrubTokens", "SecurityHeaders", "read_timeout_protocol",
           "scrub_access_log"]
