"""Run the app under gunicorn with gevent workers that read a whole request before the app sees it.

Why gevent: a sync worker is held by one connection from its first byte to its last, so a few
clients that send their headers or body slowly stop the service (issue 14). A gevent worker waits
for any number of connections at once, at the cost of a greenlet each, and hands a request to the
app only once its headers and its whole body have arrived within the read timeout. Answering is
CPU-bound and runs to completion inside one greenlet, so its cost is bounded elsewhere (spelling,
sentence splitting, per-request budget) to keep every answer short.

In each worker process (never in the master) this module also:
- buffers the body: a body not complete within the read timeout gets a 408 problem and the
  connection is closed; a body over the size limit (chunked too) gets a 413 problem;
- turns gunicorn's own errors (400 / 414 / 431 / 501 / 500) into problem+json with the security
  headers, instead of gunicorn's HTML;
- drops gunicorn's `Server` header;
- opens the index (and warms its caches) before the worker takes its first request, so a worker
  started by `--max-requests` recycling answers its first question as fast as any other.
"""

from __future__ import annotations

import gc
import io
import json
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.ggevent import GeventWorker

DEFAULT_READ_TIMEOUT = 5        # seconds a client has for its headers, and again for its body
DEFAULT_MAX_REQUESTS = 10_000   # requests before a worker is replaced (0 = never)
WORKER_CONNECTIONS = 1000       # connections one worker holds open at once
PROBLEM_TYPE = "https://qa-service.invalid/problems/"
_STATUS = {400: ("Bad request", "bad-request"), 408: ("Request timeout", "request-timeout"),
           413: ("Payload too large", "payload-too-large"), 414: ("URI too long", "uri-too-long"),
           417: ("Expectation failed", "expectation-failed"),
           431: ("Request header fields too large", "header-fields-too-large"),
           403: ("Forbidden", "forbidden"), 500: ("Internal server error", "internal-error"),
           501: ("Not implemented", "not-implemented")}
_DETAIL = {400: "The request is not valid HTTP.", 408: "The request body did not arrive in time.",
           413: "The request body is larger than this service accepts.",
           414: "The request line is too long.", 431: "The request headers are too large.",
           500: "The server could not handle this request; it has been logged with the request id."}
access = logging.getLogger("qa_service.access")
log = logging.getLogger("qa_service.server")


def _printable(text: str) -> str:
    """Return text with control characters escaped, for one-line log entries."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def problem_bytes(status: int, detail: str | None = None, request_id: str | None = None,
                  close: bool = True) -> bytes:
    """Return a complete HTTP/1.1 problem+json response with the app's security headers."""
    from qa_service import CSP

    title, slug = _STATUS.get(status, ("Error", "error"))
    request_id = request_id or uuid.uuid4().hex[:16]
    body = json.dumps({"type": PROBLEM_TYPE + slug, "title": title, "status": status,
                       "detail": detail or _DETAIL.get(status, title + "."),
                       "request_id": request_id}).encode()
    head = [f"HTTP/1.1 {status} {title}", "Content-Type: application/problem+json",
            f"Content-Length: {len(body)}", f"Content-Security-Policy: {CSP}",
            "X-Content-Type-Options: nosniff", "Referrer-Policy: no-referrer", "X-Frame-Options: DENY",
            f"X-Request-ID: {request_id}"]
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _write_problem(sock, status: int, reason: str, mesg: str) -> None:  # type: ignore[no-untyped-def]
    """Stand-in for gunicorn.util.write_error: problem+json, not HTML (the message is not echoed)."""
    request_id = uuid.uuid4().hex[:16]
    log.warning("gunicorn refused a request: %s %s id=%s", status, _printable(mesg)[:200], request_id)
    sock.sendall(problem_bytes(status, request_id=request_id))


def _without_server_banner(default_headers: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    def headers(self: Any) -> list[str]:
        return [h for h in default_headers(self) if not h.startswith("Server:")]
    return headers


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Worker(GeventWorker):
    """gunicorn's gevent worker that reads whole requests within the read timeout."""

    def init_process(self) -> None:
        # Worker processes only: gunicorn's HTML errors and banner are replaced here.
        from gunicorn import util
        from gunicorn.http import wsgi

        util.write_error = _write_problem
        wsgi.Response.default_headers = _without_server_banner(wsgi.Response.default_headers)
        # The master imported ssl (through the CLI's imports) before gevent patches it here; the
        # workers never use TLS or make outgoing HTTPS calls, so the warning does not apply.
        warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl has already been imported")
        super().init_process()

    def timeout_ctx(self) -> Any:
        """Bound the time for a request's headers (and a kept-alive connection's idle wait)."""
        import gevent

        return gevent.Timeout(self.cfg.keepalive, False)

    def _body_limit(self) -> int:
        config = getattr(self.wsgi, "config", None) or {}
        return int(config.get("MAX_BODY_BYTES", 65536))

    def _buffer_body(self, req, sock) -> None:  # type: ignore[no-untyped-def]
        """Read the whole body before dispatching, within the read timeout and the size limit."""
        import gevent

        limit = self._body_limit()
        headers = req.headers
        declared = next((v for k, v in headers if k == "CONTENT-LENGTH"), None)
        chunked = any(k == "TRANSFER-ENCODING" for k, _ in headers)
        if declared is None and not chunked:
            return
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413)
        if any(k == "EXPECT" and v.lower() == "100-continue" for k, v in headers):
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        timer = gevent.Timeout(self.cfg.keepalive)
        timer.start()
        chunks, size = [], 0
        try:
            while size <= limit:
                data = req.body.read(min(8192, limit + 1 - size))
                if not data:
                    break
                chunks.append(data)
                size += len(data)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            raise _Refused(408) from None
        finally:
            timer.close()
        if size > limit:
            raise _Refused(413)
        body = b"".join(chunks)
        # The app sees a plain body of known length, whatever framing the client used.
        req.headers = [(k, v) for k, v in headers if k not in ("CONTENT-LENGTH", "TRANSFER-ENCODING", "EXPECT")]
        req.headers.append(("CONTENT-LENGTH", str(len(body))))
        req.body = io.BytesIO(body)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        import gevent

        # Answers are CPU work that never yields, and a kept-alive connection whose next request
        # is already buffered would be served again at once: with eight connections the median
        # stayed at 21 ms while a tenth waited 1.3-1.5 s. Yielding here gives every connection
        # its turn.
        gevent.sleep(0)
        started = time.perf_counter()
        try:
            self._buffer_body(req, sock)
        except _Refused as refused:
            request_id = uuid.uuid4().hex[:16]
            access.info("%s %s %s %.1fms id=%s", _printable(req.method or "-"), _printable(req.path or "-"),
                        refused.status, (time.perf_counter() - started) * 1000, request_id)
            try:
                sock.sendall(problem_bytes(refused.status, request_id=request_id))
            except OSError:
                pass
            raise StopIteration() from None  # gunicorn closes the connection
        return super().handle_request(listener_name, req, sock, addr)


def warm(worker) -> None:  # type: ignore[no-untyped-def]
    """gunicorn post_worker_init: open the index and fill its lazy parts before the first request."""
    services = getattr(worker.wsgi, "extensions", {}).get("qa")
    if services is None:
        return
    try:
        index = services.live()
    except Exception as exc:  # noqa: BLE001 - no index yet: the app answers 503 until one is built
        log.info("worker %s starts without an index: %s", os.getpid(), exc)
        return
    started = time.perf_counter()
    try:
        for name in index.scorer.fields:
            index.scorer.lengths(name)
        _ = index.corrector, index.reports, index.title_phrases
        services.ask("What do the reports recommend for assessments?", index=index)
    except Exception:  # warming is an optimisation; the request path reports errors
        log.exception("warming the index failed")
    # What start-up made (the app, the index's catalog and lengths) lives as long as the worker:
    # moved out of the collector's reach, it is no longer walked by every full collection.
    gc.freeze()
    log.info("worker %s ready in %.0f ms (index %s)", os.getpid(), (time.perf_counter() - started) * 1000,
             index.version)


def write_log(_arbiter, worker) -> None:  # type: ignore[no-untyped-def]
    """gunicorn worker_exit: store the answers still waiting for the question log."""
    services = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("qa")
    if services is not None:
        services.store.flush()


class _Gunicorn(BaseApplication):
    def __init__(self, options: Mapping[str, object], app_config: Mapping[str, object]) -> None:
        self.options = dict(options)
        self.app_config = dict(app_config)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from qa_service import create_app

        return create_app(self.app_config)


def default_workers() -> int:
    """Return one worker per core."""
    return max(1, os.cpu_count() or 1)


def gunicorn_options(host: str, port: int, workers: int, timeout: int = 30,
                     read_timeout: int = DEFAULT_READ_TIMEOUT, max_requests: int = DEFAULT_MAX_REQUESTS) -> dict:
    """Return gunicorn's settings for `qa-service serve`."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "qa_service.server.Worker",
        "worker_connections": WORKER_CONNECTIONS,
        "timeout": timeout,          # a worker whose loop is blocked this long is replaced
        "graceful_timeout": 10,
        "keepalive": read_timeout,   # headers, body, and idle keep-alive each get this long
        "max_requests": max_requests,                        # 0 = never recycle
        "max_requests_jitter": max_requests // 10 if max_requests else 0,
        "post_worker_init": warm,
        "worker_exit": write_log,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "accesslog": None,           # the app logs one line per request itself
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,        # each worker builds its app and opens the index itself
    }


def serve(host: str, port: int, workers: int, app_config: Mapping[str, object], timeout: int = 30,
          read_timeout: int = DEFAULT_READ_TIMEOUT, max_requests: int = DEFAULT_MAX_REQUESTS) -> None:
    """Serve until stopped; request lines come from the app's own access log."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    _Gunicorn(gunicorn_options(host, port, workers, timeout, read_timeout, max_requests), app_config).run()
