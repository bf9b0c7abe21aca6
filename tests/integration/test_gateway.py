"""zhub-gateway against a real zhub-broker: what a provider sees (status
codes, JSON errors, Retry-After) and what the bus sees (the messages, and
nothing for a refused request).

Requests are signed here with hmac/hashlib exactly as HubSpot and Bird do
(https://developers.hubspot.com/docs/api/webhooks/validating-requests, https://docs.bird.com/api); two tests also let the stand-in peers in
tests/peers sign and deliver, as a cross-check by another implementation.

The bus is read by joining a fresh consumer group with
tests/integration/zhub_bus.py.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import socket
import time
import urllib.request

import pytest

from harness import FIXTURES_DIR, Hub, wait_until

import zhub_bus  # noqa: E402  (needs zmq and msgpack)

BODY_LIMIT = 1024 * 1024


# ------------------------------------------------------------ signing

V3_DECODE = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
             "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


def hubspot_v3(secret, method, url, body, stamp):
    signed_url = re.sub(r"%[0-9A-Fa-f]{2}", lambda m: V3_DECODE.get(m.group(0).upper(), m.group(0)),
                        url)
    message = (method + signed_url).encode() + body + stamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_headers(hub, path, body, secret=None, age_ms=0):
    stamp = str(int(time.time() * 1000) - age_ms)
    url = hub.gateway_url + path
    return {"Content-Type": "application/json",
            "X-HubSpot-Signature-v3": hubspot_v3(secret or Hub.HUBSPOT_SECRET, "POST", url, body,
                                                 stamp),
            "X-HubSpot-Request-Timestamp": stamp}


def bird_signature(key, stamp, url, body):
    message = ("%s\n%s\n" % (stamp, url)).encode() + hashlib.sha256(body).digest()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def bird_headers(hub, path, body, age_s=0, request_id=None):
    stamp = str(int(time.time()) - age_s)
    headers = {"Content-Type": "application/json",
               "messagebird-signature": bird_signature(Hub.BIRD_KEY, stamp,
                                                       hub.gateway_url + path, body),
               "messagebird-request-timestamp": stamp}
    if request_id:
        headers["messagebird-request-id"] = request_id
    return headers


# ------------------------------------------------------------ HTTP

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%s %r>" % (self.status, self.body[:200])


def request(base_url, method, path, body=b"", headers=None, timeout=10.0):
    """One request with the headers exactly as given (http.client keeps
    their case, unlike urllib)."""
    host, port = base_url.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body if method != "GET" else None,
                     headers=headers or {})
        answer = conn.getresponse()
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()},
                     answer.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def raw_exchange(base_url, data, timeout=10.0):
    """Sends raw bytes and returns the status line's code (or None)."""
    host, port = base_url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass   # the server may close as soon as it has answered
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    match = re.match(rb"HTTP/1\.[01] (\d{3})", received)
    return int(match.group(1)) if match else None


def error_code(reply):
    assert reply.headers.get("content-type", "").startswith("application/json"), reply
    assert isinstance(reply.json, dict) and "message" in reply.json, reply
    return reply.json["error"]


def sample(name):
    with open(os.path.join(FIXTURES_DIR, "samples", name), "rb") as f:
        return f.read()


def compact(data):
    return json.dumps(data, separators=(",", ":")).encode()


# ------------------------------------------------------------ the bus

class GroupReader:
    """A member of a fresh consumer group that reads from the start of the
    log and acks what it reads (tests/integration/zhub_bus.py)."""

    def __init__(self, endpoint, group, topics):
        self.bus = zhub_bus.Bus(endpoint, "test-gateway")
        reply = self.bus.join(group, topics, credit=100, start="earliest")
        assert reply["cmd"] == "JOINED", reply

    def next(self, timeout=10.0):
        """The next delivered envelope as a dict (data decoded), or None."""
        delivery = self.bus.recv(timeout)
        if delivery is None:
            return None
        self.bus.ack(delivery["tag"])
        return delivery["message"]

    def drain(self, timeout=1.0):
        out = []
        while True:
            msg = self.next(timeout)
            if msg is None:
                return out
            out.append(msg)

    def close(self):
        self.bus.close()


@pytest.fixture
def bus_factory(hub):
    buses = []

    def make(topics, group=None):
        bus = GroupReader(hub.env["ZHUB_BROKER"], group or "test-%d" % len(buses), topics)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.close()


def start_all(hub, **extra_env):
    hub.start("broker")
    return hub.start("gateway", extra_env=extra_env or None)


def marker(hub):
    """Publishes one signed HubSpot event through the gateway and returns
    its id: when it is the first thing a fresh group sees, nothing was
    published before it."""
    event = {"eventId": 999, "subscriptionId": 1, "portalId": 1, "occurredAt": 1,
             "subscriptionType": "contact.marker", "objectId": 1}
    body = compact([event])
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
    assert reply.status == 200, reply
    return "hubspot:1:1:999:1:1"


def assert_nothing_published(hub, bus_factory):
    expected = marker(hub)
    bus = bus_factory(["webhook.>"])
    first = bus.next()
    assert first is not None and first["id"] == expected, first


# ------------------------------------------------------------ tests

def test_signed_hubspot_batch_is_published_then_answered_200(hub, bus_factory):
    start_all(hub)
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    headers = hubspot_headers(hub, path, body)
    headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    reply = request(hub.gateway_url, "POST", path, body, headers)
    assert reply.status == 200, reply
    assert reply.json["accepted"] == 2

    bus = bus_factory(["webhook.hubspot.>"])
    got = [bus.next(), bus.next()]
    assert all(got), got
    by_id = {m["id"]: m for m in got}
    first = by_id["hubspot:33:25:3816279340:1246965:1462216307945"]
    assert first["type"] == "webhook.hubspot.contact.propertyChange"
    assert first["source"] == "hubspot"
    assert first["subject"] == "hubspot:contact:1246965"
    assert first["traceparent"] == headers["traceparent"]
    assert first["data"]["propertyValue"] == "subscriber"
    assert first["data"]["eventId"] == 3816279340
    second = by_id["hubspot:33:22:3816279480:1246978:1462216307945"]
    assert second["type"] == "webhook.hubspot.contact.creation"


def test_hubspot_retry_is_published_once(hub, bus_factory):
    start_all(hub)
    events = json.loads(sample("hubspot-contact-propertyChange.json"))
    path = "/v1/webhooks/hubspot"
    first = compact(events)
    events[0]["attemptNumber"] = 1   # HubSpot's retry of the same notification
    retry = compact(events)
    for body in (first, retry):
        reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
        assert reply.status == 200, reply
    expected = marker(hub)
    bus = bus_factory(["webhook.>"])
    ids = [m["id"] for m in bus.drain(timeout=2.0)]
    assert ids == ["hubspot:891472211:686627:3029365631:847297356:1715203101896", expected]


def test_large_integers_and_unicode_reach_the_bus_exactly(hub, bus_factory):
    start_all(hub)
    body = ('[{"eventId":18446744073709551615,"subscriptionId":1,"portalId":2,"occurredAt":3,'
            '"subscriptionType":"contact.propertyChange","objectId":4,'
            '"propertyValue":"Zo\\u00eb \\ud83d\\ude00 \u65e5\u672c"}]').encode()
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
    assert reply.status == 200, reply
    msg = bus_factory(["webhook.hubspot.>"]).next()
    assert msg["data"]["eventId"] == 18446744073709551615
    assert msg["data"]["propertyValue"] == "Zo\u00eb \U0001F600 \u65e5\u672c"


def test_signed_bird_event_is_published(hub, bus_factory):
    start_all(hub)
    body = sample("bird-message-created.json")
    path = "/v1/webhooks/bird"
    # four hours old: a Bird retry keeps its first timestamp
    reply = request(hub.gateway_url, "POST", path, body,
                    bird_headers(hub, path, body, age_s=4 * 3600, request_id="req-42"))
    assert reply.status == 200, reply
    msg = bus_factory(["webhook.bird.>"]).next()
    assert msg["id"].startswith("bird:") and len(msg["id"]) == 5 + 64
    assert msg["type"] == "webhook.bird.whatsapp.inbound"
    assert msg["source"] == "bird"
    assert msg["subject"] == "contact:d4e8935a-5f48-45a5-95a5-ee7ba1e2c5b4"
    assert msg["data"]["payload"]["body"]["text"]["text"] == "Test"


def test_broker_killed_right_after_the_200_still_delivers_the_event(hub, bus_factory):
    """The 200 means the broker committed the event: a SIGKILL of the
    broker right after it, then a restart, and a fresh consumer group
    still gets the event."""
    broker = hub.start("broker")
    hub.start("gateway")
    body = compact([{"eventId": 4242, "subscriptionId": 7, "portalId": 8, "occurredAt": 9,
                     "subscriptionType": "contact.creation", "objectId": 10}])
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
    assert reply.status == 200, reply
    assert reply.json == {"accepted": 1}     # confirmed by the broker, not spooled
    broker.kill9()
    broker.start()
    msg = bus_factory(["webhook.hubspot.>"]).next()
    assert msg is not None and msg["id"] == "hubspot:8:7:4242:10:9", msg
    assert msg["type"] == "webhook.hubspot.contact.creation"


def test_bad_signature_gets_401_and_nothing_is_published(hub, bus_factory):
    start_all(hub)
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body,
                    hubspot_headers(hub, path, body, secret="not-the-secret"))
    assert reply.status == 401, reply
    assert error_code(reply) == "unauthorized"
    bird = sample("bird-message-created.json")
    headers = bird_headers(hub, "/v1/webhooks/bird", bird)
    reply = request(hub.gateway_url, "POST", "/v1/webhooks/bird", bird + b" ", headers)
    assert reply.status == 401, reply
    reply = request(hub.gateway_url, "POST", path, body, {"Content-Type": "application/json"})
    assert reply.status == 401, reply
    assert_nothing_published(hub, bus_factory)


def test_stale_timestamp_gets_401(hub, bus_factory):
    start_all(hub)
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body,
                    hubspot_headers(hub, path, body, age_ms=6 * 60 * 1000))
    assert reply.status == 401, reply
    assert "timestamp_stale" in reply.json["message"]
    reply = request(hub.gateway_url, "POST", path, body,
                    hubspot_headers(hub, path, body, age_ms=-6 * 60 * 1000))
    assert reply.status == 401, reply
    bird = sample("bird-message-created.json")
    reply = request(hub.gateway_url, "POST", "/v1/webhooks/bird", bird,
                    bird_headers(hub, "/v1/webhooks/bird", bird, age_s=10 * 3600))
    assert reply.status == 401, reply
    assert_nothing_published(hub, bus_factory)


def test_body_over_the_limit_gets_413(hub, bus_factory):
    start_all(hub)
    host = hub.gateway_url.split("//")[1]
    # a declared length over the limit from a sender that waits for
    # 100 Continue is refused before any body is sent
    head = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Expect: 100-continue\r\n\r\n" % (host, BODY_LIMIT + 1)).encode()
    assert raw_exchange(hub.gateway_url, head) == 413
    # so is a declared length past what the gateway would read and drop
    head = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (host, 4 * BODY_LIMIT + 1)).encode()
    assert raw_exchange(hub.gateway_url, head) == 413
    # no declared length: refused once the bytes received pass the limit
    chunk = b"[" + b" " * BODY_LIMIT + b"]"
    chunked = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               % host).encode() + b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n"
    assert raw_exchange(hub.gateway_url, chunked) == 413
    # a signed body over the limit, sent whole: read to its end and refused
    body = b"[" + b" " * BODY_LIMIT + b"]"
    signed = hubspot_headers(hub, "/v1/webhooks/hubspot", body)
    whole = ("POST /v1/webhooks/hubspot HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
             % (host, len(body))).encode()
    whole += b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in signed.items())
    assert raw_exchange(hub.gateway_url, whole + b"\r\n" + body) == 413
    # the JSON error body
    reply = request(hub.gateway_url, "POST", "/v1/webhooks/hubspot", body,
                    {"Content-Type": "application/json"})
    assert reply.status == 413
    assert error_code(reply) == "payload_too_large"
    assert_nothing_published(hub, bus_factory)


def test_wrong_content_type_gets_415(hub, bus_factory):
    start_all(hub)
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    headers = hubspot_headers(hub, path, body)
    headers["Content-Type"] = "text/plain"
    reply = request(hub.gateway_url, "POST", path, body, headers)
    assert reply.status == 415, reply
    assert error_code(reply) == "unsupported_media_type"
    headers["Content-Type"] = "application/json; charset=UTF-8"   # allowed
    reply = request(hub.gateway_url, "POST", path, body, headers)
    assert reply.status == 200, reply


def test_unknown_path_or_source_gets_404(hub):
    start_all(hub)
    json_headers = {"Content-Type": "application/json"}
    reply = request(hub.gateway_url, "POST", "/v1/webhooks/nosuchsource", b"[]", json_headers)
    assert reply.status == 404, reply
    assert error_code(reply) == "unknown_source"
    reply = request(hub.gateway_url, "GET", "/", headers=json_headers)
    assert reply.status == 404, reply
    assert error_code(reply) == "not_found"


def test_wrong_method_gets_405_with_allow(hub):
    start_all(hub)
    for method in ("GET", "PUT", "DELETE"):
        reply = request(hub.gateway_url, method, "/v1/webhooks/hubspot")
        assert reply.status == 405, (method, reply)
        assert reply.headers.get("allow") == "POST"
        assert error_code(reply) == "method_not_allowed"


def test_malformed_body_gets_400_and_nothing_is_published(hub, bus_factory):
    start_all(hub)
    path = "/v1/webhooks/hubspot"
    for body in (b'[{"eventId":1', b'{"eventId":1}', b'[{"eventId":1}]'):
        reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
        assert reply.status == 400, (body, reply)
        assert error_code(reply) == "bad_request"
    bird = b'{"service":"channels","payload":{}}'
    reply = request(hub.gateway_url, "POST", "/v1/webhooks/bird", bird,
                    bird_headers(hub, "/v1/webhooks/bird", bird))
    assert reply.status == 400, reply
    assert_nothing_published(hub, bus_factory)


def test_broker_down_without_spool_gets_503_with_retry_after(hub):
    hub.start("gateway", extra_env={"ZHUB_GATEWAY_PUBLISH_TIMEOUT": "1s",
                                    "ZHUB_GATEWAY_SPOOL": "off"})
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    reply = request(hub.gateway_url, "POST", path, body, hubspot_headers(hub, path, body))
    assert reply.status == 503, reply
    assert int(reply.headers["retry-after"]) > 0
    assert error_code(reply) == "unavailable"


def test_readyz_follows_the_broker_when_the_spool_is_off(hub):
    gateway = hub.start("gateway", extra_env={"ZHUB_GATEWAY_READY_TIMEOUT": "300ms",
                                              "ZHUB_GATEWAY_SPOOL": "off"})

    def ready_status():
        return request(hub.admin_url, "GET", "/readyz").status

    assert request(hub.admin_url, "GET", "/healthz").status == 200
    assert ready_status() == 503
    broker = hub.start("broker")
    wait_until(lambda: ready_status() == 200, timeout=10, what="readyz 200")
    reply = request(hub.admin_url, "GET", "/readyz")
    assert reply.json["status"] == "ready"
    broker.stop()
    wait_until(lambda: ready_status() == 503, timeout=10, what="readyz 503")
    assert request(hub.admin_url, "GET", "/healthz").status == 200
    assert gateway.alive()


def test_stops_cleanly_and_logs_no_secrets(hub):
    gateway = hub.start("gateway")
    body = sample("hubspot-webhooks-guide-example.json")
    path = "/v1/webhooks/hubspot"
    request(hub.gateway_url, "POST", path, body,
            hubspot_headers(hub, path, body, secret="not-the-secret"))
    assert gateway.stop() == 0
    log = gateway.log_text()
    assert "event=ready" in log and "public_url=" + hub.gateway_url in log
    assert "status=401" in log and "reason=signature_mismatch" in log
    assert Hub.HUBSPOT_SECRET not in log and Hub.BIRD_KEY not in log
    assert "Zoe" not in log and "lifecyclestage" not in log   # no bodies


def test_bird_peer_inbound_webhook_is_accepted(hub, bus_factory):
    start_all(hub)
    peer = hub.start_peer("bird", "--webhook-url", hub.gateway_url + "/v1/webhooks/bird",
                          "--signing-key", Hub.BIRD_KEY)
    req = urllib.request.Request(peer + "/__peer/inbound", method="POST",
                                 data=compact({"from": "+31612345678", "text": "hi"}),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as answer:
        result = json.loads(answer.read())
    assert result["status"] == 200, result
    contact = result["event"]["payload"]["sender"]["contact"]["id"]
    msg = bus_factory(["webhook.bird.>"]).next()
    assert msg["type"] == "webhook.bird.whatsapp.inbound"
    assert msg["subject"] == "contact:" + contact


def test_hubspot_peer_webhook_is_accepted(hub, bus_factory):
    start_all(hub)
    peer = hub.start_peer("hubspot", "--webhook-url", hub.gateway_url + "/v1/webhooks/hubspot",
                          "--app-secret", Hub.HUBSPOT_SECRET)
    req = urllib.request.Request(
        peer + "/crm/v3/objects/contacts", method="POST",
        data=compact({"properties": {"email": "ana@example.com", "firstname": "Ana"}}),
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer test-hubspot-token"})
    with urllib.request.urlopen(req, timeout=10) as answer:
        created = json.loads(answer.read())
    bus = bus_factory(["webhook.hubspot.>"])
    msg = bus.next()
    assert msg is not None
    assert msg["type"].startswith("webhook.hubspot.contact.")
    assert msg["subject"] == "hubspot:contact:%s" % created["id"]

    def delivered():
        with urllib.request.urlopen(peer + "/__peer/state", timeout=5) as answer:
            state = json.loads(answer.read())
        return [d["status"] for d in state.get("webhook_deliveries", [])]
    statuses = wait_until(delivered, timeout=10, what="peer deliveries")
    assert set(statuses) == {200}, statuses
