"""Shared plumbing for the HubSpot and Bird stand-in servers.

Standard library only: these peers must run under Debian's /usr/bin/python3
(3.11) with no pip packages, both from pytest and in a local dev run.

What lives here:
  * Request / Response value objects and JSON helpers;
  * PeerApp, the base every peer extends (state lock, request log, faults,
    runtime config, the /__peer/* control endpoints);
  * PeerHandler / PeerServer (ThreadingHTTPServer, HTTP/1.1 keep-alive,
    because libcurl reuses connections and a peer must not hide that);
  * WebhookSender, a background queue that POSTs signed callbacks;
  * run(), the CLI entry point (--host, --port, --max-seconds, READY line).
"""

import argparse
import datetime
import http.client
import json
import queue
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/__peer/"
# A long dev run must not grow without bound; the newest entries matter most.
LOG_LIMIT = 5000
MAX_BODY = 16 * 1024 * 1024


# ---------------------------------------------------------------- helpers

def now_ms():
    return int(time.time() * 1000)


def iso_ms(ms):
    """Epoch ms -> '2024-11-26T15:00:00.000Z', the format both vendors use."""
    dt = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def parse_time_ms(value):
    """Epoch ms (int or digit string) or ISO 8601 -> epoch ms, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp() * 1000)


def new_uuid():
    return str(uuid.uuid4())


def _parse_json(raw):
    """Returns (value, error_text). Empty body -> (None, None)."""
    if not raw:
        return None, None
    try:
        return json.loads(raw.decode("utf-8")), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, str(exc)


def _body_for_log(raw, parsed, error):
    if not raw:
        return None
    if error is None:
        return parsed
    return raw.decode("utf-8", "replace")


# ---------------------------------------------------------- value objects

class Request:
    """One parsed HTTP request. Header names are lower-cased."""

    def __init__(self, method, target, headers, body):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = parts.query
        self.params = parse_qs(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.json, self.json_error = _parse_json(body)
        self.time = now_ms()

    def param(self, name, default=None):
        values = self.params.get(name)
        return values[-1] if values else default

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


class Response:
    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def encode(self):
        """Returns (bytes, content type or None)."""
        if self.body is None or self.status in (204, 304):
            return b"", None
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json;charset=utf-8"


# ------------------------------------------------------ faults and logging

class Fault:
    """One scripted misbehaviour, consumed by the next `count` matches."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("fault must be a JSON object")
        self.status = spec.get("status")
        self.count = spec.get("count", 1)
        self.retry_after = spec.get("retry_after")
        self.delay_ms = spec.get("delay_ms", 0)
        self.path_prefix = spec.get("path_prefix", "")
        self.method = (spec.get("method") or "").upper()
        self.reset = bool(spec.get("reset", False))
        # the provider's own error reason for the answer (e.g. Google's
        # "userRateLimitExceeded"); each peer's fault_response decides its use
        self.reason = spec.get("reason")
        self._validate()

    def _validate(self):
        if self.status is not None and not (
                isinstance(self.status, int) and 400 <= self.status <= 599):
            raise ValueError("status must be an integer 400..599")
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError("count must be a positive integer")
        if not isinstance(self.delay_ms, (int, float)) or self.delay_ms < 0:
            raise ValueError("delay_ms must be a number >= 0")
        if self.retry_after is not None and not isinstance(self.retry_after, (int, float, str)):
            raise ValueError("retry_after must be seconds")
        if not isinstance(self.path_prefix, str):
            raise ValueError("path_prefix must be a string")
        if self.reason is not None and not isinstance(self.reason, str):
            raise ValueError("reason must be a string")
        if self.status is None and not self.reset and not self.delay_ms:
            raise ValueError("a fault needs status, reset or delay_ms")

    def matches(self, req):
        if self.method and self.method != req.method:
            return False
        return req.path.startswith(self.path_prefix)

    def describe(self):
        return {"status": self.status, "count": self.count,
                "retry_after": self.retry_after, "delay_ms": self.delay_ms,
                "path_prefix": self.path_prefix, "method": self.method or None,
                "reset": self.reset, "reason": self.reason}


class FaultQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, spec):
        fault = Fault(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, req):
        """First matching fault, with one use consumed; None if none match."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(req):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self):
        with self._lock:
            self._faults.clear()

    def describe(self):
        with self._lock:
            return [f.describe() for f in self._faults]


class RequestLog:
    """What the peer was asked, newest LOG_LIMIT entries in memory (cleared
    by DELETE /__peer/requests and /__peer/reset). With a journal path
    every answered entry is also appended there as one JSON line, never
    cleared: the integration harness reads it after the test to check
    every request zhub made against the providers' references."""

    def __init__(self, journal=None):
        self._lock = threading.Lock()
        self._entries = []
        self._journal = journal

    def record(self, req, status):
        entry = {"method": req.method, "path": req.path, "query": req.query,
                 "params": req.params, "headers": req.headers,
                 "body": _body_for_log(req.body, req.json, req.json_error),
                 "status": status, "time": req.time}
        with self._lock:
            self._entries.append(entry)
            del self._entries[:-LOG_LIMIT]
        return entry

    def answered(self, entry, status):
        with self._lock:
            entry["status"] = status
            if self._journal:
                with open(self._journal, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def snapshot(self, path_prefix="", method=""):
        with self._lock:
            return [e for e in self._entries
                    if e["path"].startswith(path_prefix)
                    and (not method or e["method"] == method)]

    def clear(self):
        with self._lock:
            self._entries.clear()


# ----------------------------------------------------------- webhooks out

def post_bytes(url, body, headers, timeout=5.0):
    """POST raw bytes; returns (status or None, error text or None).

    http.client rather than urllib: urllib re-capitalises header names
    ("X-hubspot-signature-v3"), and a receiver should see them as sent.
    """
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    conn_cls = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn = conn_cls(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", target, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status, None
    except (OSError, http.client.HTTPException) as exc:
        return None, str(exc)
    finally:
        conn.close()


class WebhookSender:
    """Delivers callbacks in order on one thread, so API answers never wait.

    Every attempt is recorded in `deliveries` (shown by GET /__peer/state).
    """

    def __init__(self):
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self.deliveries = []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def submit(self, url, build):
        """`build()` -> (body bytes, headers); called at send time so the
        signature timestamp is fresh."""
        self._queue.put((url, build))

    def send_now(self, url, body, headers):
        status, error = post_bytes(url, body, headers)
        with self._lock:
            self.deliveries.append({"url": url, "status": status, "error": error,
                                    "time": now_ms(), "headers": headers,
                                    "body": json.loads(body)})
            del self.deliveries[:-LOG_LIMIT]
        return status, error

    def snapshot(self):
        with self._lock:
            return list(self.deliveries)

    def clear(self):
        with self._lock:
            self.deliveries.clear()

    def _loop(self):
        while True:
            url, build = self._queue.get()
            try:
                body, headers = build()
                self.send_now(url, body, headers)
            except Exception:  # a broken callback must not kill the peer
                traceback.print_exc()


# --------------------------------------------------------------- the app

class PeerApp:
    """Base for a stand-in API. Subclasses implement handle() and friends.

    `config_keys` names settings that may change at run time through
    POST /__peer/config (e.g. the webhook URL, known only once the gateway
    under test has picked its port).
    """

    config_keys = ()

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.faults = FaultQueue()
        self.log = RequestLog(getattr(args, "request_journal", None))
        self.webhooks = WebhookSender()
        self.config = {k: getattr(args, k, None) for k in self.config_keys}
        self.reset_state()

    # -- hooks for subclasses
    @classmethod
    def add_arguments(cls, parser):
        pass

    def reset_state(self):
        pass

    def state_snapshot(self):
        return {}

    def handle(self, req):
        return Response(404, {"message": "not found"})

    def fault_response(self, fault, req):
        return Response(fault.status, {"message": "injected fault"},
                        retry_after_header(fault))

    def extra_control(self, req):
        """Peer-specific /__peer/* endpoints; None if not handled."""
        return None

    # -- plumbing
    def safe_handle(self, req):
        try:
            return self.handle(req)
        except Exception:
            traceback.print_exc()
            return Response(500, {"message": "peer bug: see its stderr"})

    def control(self, req):
        name = req.path[len(CONTROL_PREFIX):].strip("/")
        route = (req.method, name)
        if route == ("POST", "faults"):
            return self._add_fault(req)
        if route == ("GET", "faults"):
            return Response(200, {"faults": self.faults.describe()})
        if route == ("DELETE", "faults"):
            self.faults.clear()
            return Response(204)
        if route == ("GET", "requests"):
            entries = self.log.snapshot(req.param("path_prefix", ""),
                                        req.param("method", "").upper())
            return Response(200, {"requests": entries})
        if route == ("DELETE", "requests"):
            self.log.clear()
            return Response(204)
        if route == ("GET", "state"):
            with self.lock:
                state = self.state_snapshot()
            state["webhook_deliveries"] = self.webhooks.snapshot()
            state["config"] = dict(self.config)
            return Response(200, state)
        if route == ("POST", "reset"):
            self.reset_all()
            return Response(204)
        if route == ("POST", "config"):
            return self._set_config(req)
        answer = self.extra_control(req)
        return answer or Response(404, {"error": "unknown control endpoint"})

    def reset_all(self):
        with self.lock:
            self.reset_state()
        self.faults.clear()
        self.log.clear()
        self.webhooks.clear()

    def _add_fault(self, req):
        if req.json_error:
            return Response(400, {"error": "invalid JSON: " + req.json_error})
        specs = req.json if isinstance(req.json, list) else [req.json]
        try:
            faults = [self.faults.add(spec) for spec in specs]
        except ValueError as exc:
            return Response(400, {"error": str(exc)})
        return Response(201, {"faults": [f.describe() for f in faults]})

    def _set_config(self, req):
        body = req.json
        if not isinstance(body, dict) or set(body) - set(self.config_keys):
            return Response(400, {"error": "allowed keys: %s" % list(self.config_keys)})
        with self.lock:
            self.config.update(body)
        return Response(200, dict(self.config))

    def close(self):
        pass


def retry_after_header(fault):
    if fault.retry_after is None:
        return {}
    return {"Retry-After": str(fault.retry_after)}


# ------------------------------------------------------------ HTTP layer

class PeerHandler(BaseHTTPRequestHandler):
    # HTTP/1.1 so keep-alive and Expect: 100-continue behave as with a real
    # API front end; every answer therefore carries Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "zhub-peer/1.0"

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, fmt, *args):
        if self.server.app.args.verbose:
            sys.stderr.write("%s %s\n" % (self.server.app.__class__.__name__, fmt % args))

    def _serve(self):
        app = self.server.app
        body = self._read_body()
        if body is None:
            return
        req = Request(self.command, self.path, self.headers, body)
        if req.path.startswith(CONTROL_PREFIX):
            self._send(app.control(req))
            return
        fault = app.faults.take(req)
        if fault and fault.delay_ms:
            time.sleep(fault.delay_ms / 1000.0)
        if fault and fault.reset:
            app.log.answered(app.log.record(req, None), None)
            self._abort()
            return
        # Logged before the call changes any state (its status once answered):
        # whoever sees the change, or gets the answer, finds the entry.
        entry = app.log.record(req, None)
        if fault and fault.status:
            resp = app.fault_response(fault, req)
        else:
            resp = app.safe_handle(req)
        app.log.answered(entry, resp.status)
        self._send(resp)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(Response(400, {"message": "bad Content-Length"}))
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, resp):
        payload, content_type = resp.encode()
        self.send_response(resp.status)
        headers = dict(resp.headers)
        if content_type and "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _abort(self):
        """Drop the connection without a status line (fault "reset")."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class PeerServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, app):
        self.app = app
        super().__init__(address, PeerHandler)

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup that can stall
        # start-up for seconds on machines without a resolver.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port


# ------------------------------------------------------------------- CLI

def build_parser(app_cls):
    parser = argparse.ArgumentParser(description=(app_cls.__doc__ or "").strip())
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0,
                        help="0 picks a free port (printed in the READY line)")
    parser.add_argument("--max-seconds", type=float, default=3600.0,
                        help="exit by itself after this many seconds")
    parser.add_argument("--verbose", action="store_true",
                        help="access log on stderr")
    parser.add_argument("--request-journal", metavar="FILE",
                        help="also append every answered request to FILE, one JSON line each")
    app_cls.add_arguments(parser)
    return parser


def run(app_cls, argv=None):
    args = build_parser(app_cls).parse_args(argv)
    app = app_cls(args)
    server = PeerServer((args.host, args.port), app)

    def stop(*_):
        # shutdown() blocks until serve_forever() returns, so it must not
        # run on the thread that serves (where signal handlers run).
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    print("READY %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        server.server_close()
        app.close()
    return 0
