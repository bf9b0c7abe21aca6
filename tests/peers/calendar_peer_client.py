"""A small client for the calendar stand-ins' tests: starts a peer script
on a free port and makes JSON or form calls to it."""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class Peer:
    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), "--port", "0",
                                      "--max-seconds", "60", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        assert line.startswith("READY "), line
        self.url = "http://127.0.0.1:%s" % line.split()[1]

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)

    def call(self, method, path, body=None, token=None, form=None, headers=None):
        data, hdrs = None, dict(headers or {})
        if form is not None:
            data = form.encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if token:
            hdrs["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None, dict(exc.headers)


class Receiver:
    """A webhook receiver for the stand-ins' notifications: records every
    request (method, path, query, headers, body) and answers 200. With
    echo_validation it answers Graph's ?validationToken= handshake as the
    gateway does (the decoded token as text/plain); without it, 404."""

    def __init__(self, echo_validation=True):
        import http.server
        import threading
        from urllib.parse import parse_qs, urlsplit

        received = self.received = []
        echo = echo_validation

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                received.append({"path": parts.path, "query": query, "raw_query": parts.query,
                                 "body": body,
                                 "headers": {k.lower(): v for k, v in self.headers.items()}})
                token = query.get("validationToken")
                status, text, kind = 200, b"", "application/json"
                if token is not None:
                    status, text, kind = (200, token.encode(), "text/plain") if echo \
                        else (404, b"", "text/plain")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, fmt, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
