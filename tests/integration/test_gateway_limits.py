"""zhub-gateway's edge limits and admin API: a source over its
rate gets 429 with Retry-After while other sources go on; oversized
headers get 431; a slowloris is cut off at the request deadline and never
starves other clients; the admin API needs its bearer token (and is closed
without one); /metrics speaks the Prometheus text format.
"""
import re
import socket
import time

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
        # bounded loop: the slow clients trickle for at most 5 s
        while open_ and time.monotonic() - started < 5.0:
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
        assert elapsed < 4.0, elapsed
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
    import json
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
