"""zhub-gateway's edge limits and admin API: a source over its
rate gets 429 with Retry-After while other sources go on; oversized
headers get 431; a slowloris is cut off at the request deadline and never
starves other clients; a body over the limit is read and dropped up to the
discard limit so its sender reads the 413, and cut off past it; the admin API needs its bearer token (and is closed
without one); /metrics speaks the Prometheus text format.
"""
import json
import re
import socket
import time

from harness import wait_until
from test_gateway import Hub, bus_factory, hubspot_headers, raw_exchange, request  # noqa: F401


def test_over_the_rate_gets_429_with_retry_after(hub):
    hub.start("broker")
    hub.start("gateway", extra_env={"ZHUB_GATEWAY_RATE": "1", "ZHUB_GATEWAY_BURST": "3",
                                    "ZHUB_GATEWAY_RATE_BIRD": "50"})
    path = "/v1/webhooks/hubspot"
    statuses = []
    for _ in range(5):
        body = b"[]"
        statuses.append(request(hub.gateway_url, "POST", path, body,
                                hubspot_headers(hub, path, body)))
    assert [r.status for r in statuses[:3]] == [200, 200, 200], statuses
    limited = statuses[3]
    assert limited.status == 429, limited
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json["error"] == "too_many_requests"
    # another source has its own bucket (and its own, higher, rate)
    for _ in range(5):
        reply = request(hub.gateway_url, "POST", "/v1/webhooks/bird", b"{}",
                        {"Content-Type": "application/json"})
        assert reply.status == 401, reply
    time.sleep(1.1)
    body = b"[]"
    assert request(hub.gateway_url, "POST", path, body,
                   hubspot_headers(hub, path, body)).status == 200


def test_oversized_headers_get_431(hub):
    hub.start("gateway", extra_env={"ZHUB_GATEWAY_CONNECTION_MEMORY": "16384"})
    big = (b"POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000
           + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
    assert raw_exchange(hub.gateway_url, big) == 431
    # the gateway is fine after it
    assert request(hub.gateway_url, "GET", "/v1/webhooks/hubspot").status == 405


def slow_client(port):
    """A connection from 127.0.0.2 that starts a request and then sends one
    header line every 0.3 s (well inside the idle timeout)."""
    sock = socket.socket()
    sock.settimeout(0.2)
    sock.bind(("127.0.0.2", 0))
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: x\r\n")
    except OSError:
        sock.close()
        return None
    return sock


def closed(sock):
    try:
        sock.sendall(b"X-Slow: 1\r\n")
        data = sock.recv(4096)
        return data == b"" or data.startswith(b"HTTP/")
    except socket.timeout:
        return False
    except OSError:
        return True


def test_slowloris_is_cut_off_and_other_clients_are_served(hub):
    hub.start("broker")
    gateway = hub.start("gateway", extra_env={"ZHUB_GATEWAY_REQUEST_TIMEOUT": "1500ms",
                                              "ZHUB_GATEWAY_CONNECTION_TIMEOUT": "10s",
                                              "ZHUB_GATEWAY_PER_IP_LIMIT": "8",
                                              "ZHUB_GATEWAY_CONNECTION_LIMIT": "64"})
    socks = [s for s in (slow_client(hub.gateway_port) for _ in range(20)) if s]
    try:
        started = time.monotonic()
        open_ = list(socks)
        served = 0
        # bounded wait (not a measurement): the reaper closes them at the
        # 1.5 s request deadline; 15 s is only how long the test waits
        while open_ and time.monotonic() - started < 15.0:
            time.sleep(0.3)
            open_ = [s for s in open_ if not closed(s)]
            # meanwhile an ordinary client from another address is served
            body = b"[]"
            reply = request(hub.gateway_url, "POST", "/v1/webhooks/hubspot", body,
                            hubspot_headers(hub, "/v1/webhooks/hubspot", body), timeout=3.0)
            assert reply.status == 200, reply
            served += 1
        elapsed = time.monotonic() - started
        assert not open_, "%d slow connections still open after %.1fs" % (len(open_), elapsed)
        assert served >= 1
        assert "event=request_deadline" in gateway.log_text()
    finally:
        for s in socks:
            s.close()
    assert gateway.alive()


def test_admin_status_needs_the_token_and_metrics_do_not(hub):
    hub.start("broker")
    hub.start("gateway", extra_env={"ZHUB_ADMIN_TOKEN": "admin-token-1",
                                    "ZHUB_ADMIN_TOKEN_PREVIOUS": "admin-token-0",
                                    "ZHUB_HUBSPOT_APP_SECRET_PREVIOUS": "old-hubspot-secret"})
    body = b"[]"
    path = "/v1/webhooks/hubspot"
    assert request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body)).status == 200
    # the previous HubSpot secret is accepted too, and counted as any other
    assert request(hub.gateway_url, "POST", path, body,
                   hubspot_headers(hub, path, body, secret="old-hubspot-secret")).status == 200
    assert request(hub.gateway_url, "POST", path, body,
                   hubspot_headers(hub, path, body, secret="wrong")).status == 401

    assert request(hub.admin_url, "GET", "/v1/status").status == 401
    wrong = request(hub.admin_url, "GET", "/v1/status", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401 and wrong.headers["www-authenticate"] == "Bearer"
    for token in ("admin-token-1", "admin-token-0"):
        reply = request(hub.admin_url, "GET", "/v1/status",
                        headers={"Authorization": "Bearer " + token})
        assert reply.status == 200, reply
    status = reply.json
    by_name = {s["name"]: s for s in status["sources"]}
    hubspot = by_name["hubspot"]["secrets"][0]
    assert hubspot == {"variable": "ZHUB_HUBSPOT_APP_SECRET", "loaded": True, "previous": True}
    assert by_name["calendly"]["secrets"][0]["loaded"] is False
    assert status["spool"]["enabled"] is True and status["spool"]["depth"] == 0
    assert status["broker"]["connected"] is True
    for secret in (Hub.HUBSPOT_SECRET, "old-hubspot-secret", "admin-token-1", Hub.BIRD_KEY):
        assert secret not in reply.body

    metrics = request(hub.admin_url, "GET", "/metrics")
    assert metrics.status == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.body
    assert 'zhub_gateway_requests_total{source="hubspot",status="200"} 2' in text
    assert 'zhub_gateway_requests_total{source="hubspot",status="401"} 1' in text
    assert ('zhub_gateway_signature_failures_total{source="hubspot",reason="signature_mismatch"} 1'
            in text)
    assert re.search(r'^zhub_gateway_publish_seconds_count \d+$', text, re.M)
    assert "zhub_gateway_spool_depth 0" in text and "zhub_gateway_broker_up 1" in text
    assert request(hub.admin_url, "GET", "/healthz").status == 200


def test_admin_status_is_closed_without_a_token(hub):
    hub.start("gateway")
    reply = request(hub.admin_url, "GET", "/v1/status", headers={"Authorization": "Bearer "})
    assert reply.status == 403, reply
    assert request(hub.admin_url, "GET", "/v1/status",
                   headers={"Authorization": "Bearer anything"}).status == 403
    assert request(hub.admin_url, "GET", "/metrics").status == 200


def test_json_logs_one_line_per_request_without_secrets(hub):
    from harness import BINARIES
    gateway = hub._start("gateway", [BINARIES["gateway"]], ready_text='"event":"ready"',
                         extra_env={"ZHUB_LOG_FORMAT": "json", "ZHUB_LOG_LEVEL": "info",
                                    "ZHUB_GATEWAY_SPOOL": "off"})
    path = "/v1/webhooks/hubspot"
    body = b'[{"propertyValue":"Zoe"}]'
    request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body, secret="bad"))
    assert gateway.stop() == 0
    lines = [json.loads(line) for line in gateway.log_text().splitlines() if line.strip()]
    requests = [entry for entry in lines if entry["event"] == "request"]
    assert len(requests) == 1, requests
    entry = requests[0]
    assert entry["level"] == "info" and entry["proc"] == "gateway"
    assert entry["status"] == 401 and entry["source"] == "hubspot"
    assert entry["reason"] == "signature_mismatch" and entry["path"] == path
    assert isinstance(entry["duration_ms"], int)
    text = gateway.log_text()
    assert Hub.HUBSPOT_SECRET not in text and "Zoe" not in text


# ------------------------------------------------------- oversized bodies

SMALL_LIMIT = 4096


def _send_in_chunks(port, head, pieces):
    """Sends the request head, then each piece with a pause between them
    (a sender still uploading while the gateway decides), then reads the
    answer to its end. Returns (status, headers, body); a reset or a broken
    pipe on the way raises."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for piece in pieces:
            time.sleep(0.05)
            sock.sendall(piece)
        received = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received += data
    head_text, _, body = received.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return status, headers, body


def test_a_body_over_the_limit_sent_in_chunks_reads_the_whole_413(hub):
    """A sender that goes on uploading a body well over the limit is read to
    the end (and its bytes dropped), then gets the complete 413 JSON answer,
    not a connection reset."""
    hub.start("broker")
    hub.start("gateway", extra_env={"ZHUB_GATEWAY_BODY_LIMIT": str(SMALL_LIMIT)})
    total = 3 * SMALL_LIMIT
    whole = b"[" + b" " * (total - 2) + b"]"
    step = SMALL_LIMIT // 2
    pieces = [whole[i:i + step] for i in range(0, total, step)]   # six pieces
    head = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total).encode()
    status, headers, body = _send_in_chunks(hub.gateway_port, head, pieces)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert headers.get("connection", "").lower() == "close"
    assert json.loads(body)["error"] == "payload_too_large"
    # the same without a declared length (chunked transfer encoding)
    head = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunks = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]
    status, headers, body = _send_in_chunks(hub.gateway_port, head, chunks)
    assert status == 413
    assert json.loads(body)["error"] == "payload_too_large"


def test_a_body_past_the_discard_limit_is_cut_off(hub):
    """Past ZHUB_GATEWAY_DISCARD_LIMIT the gateway stops reading: a declared
    length beyond it is answered 413 at once, and an upload without a
    declared length that goes beyond it has its connection closed."""
    hub.start("broker")
    gateway = hub.start("gateway", extra_env={"ZHUB_GATEWAY_BODY_LIMIT": str(SMALL_LIMIT),
                                              "ZHUB_GATEWAY_DISCARD_LIMIT":
                                              str(2 * SMALL_LIMIT)})
    host = "127.0.0.1"
    head = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (host, 2 * SMALL_LIMIT + 1)).encode()
    assert raw_exchange(hub.gateway_url, head) == 413
    # chunked, streaming on past the bound: the gateway closes the socket
    with socket.create_connection((host, hub.gateway_port), timeout=10) as sock:
        sock.sendall(("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      % host).encode())
        piece = b" " * 1024
        ended = False
        try:
            for _ in range(4 * SMALL_LIMIT // 1024 * 16):   # far past the bound
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
            ended = sock.recv(4096) == b""
        except OSError:
            ended = True
    assert ended, "the gateway kept reading past its discard limit"
    # the gateway is fine after it, and says why it closed
    assert request(hub.gateway_url, "GET", "/v1/webhooks/hubspot").status == 405
    wait_until(lambda: "body_over_discard_limit_closed" in gateway.log_text(), 10,
               what="the cut-off in the log")
