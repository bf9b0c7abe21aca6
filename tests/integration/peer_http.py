"""Small helpers shared by the activity-log and scheduler tests: JSON over
HTTP to the stand-ins, their control endpoints, and reading bus topics."""
import json
import time
import urllib.error
import urllib.request
import uuid

from zhub_bus import Bus

HUBSPOT_AUTH = {"Authorization": "Bearer test-hubspot-token"}


def http(method, url, body=None, headers=None, raw=None):
    """Returns (status, parsed JSON or text or None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and "Content-Type" not in req.headers:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text) if text else None
        except ValueError:
            return exc.code, text.decode("utf-8", "replace")


def peer_state(hub, kind):
    status, state = http("GET", hub.peers[kind] + "/__peer/state")
    assert status == 200
    return state


def peer_requests(hub, kind, path_prefix="", method=""):
    url = "%s/__peer/requests?path_prefix=%s&method=%s" % (hub.peers[kind], path_prefix, method)
    status, body = http("GET", url)
    assert status == 200
    return body["requests"]


def peer_fault(hub, kind, **fault):
    status, body = http("POST", hub.peers[kind] + "/__peer/faults", fault)
    assert status == 201, body


def publish(hub, type_, data, subject=None, id_=None, time_ms=None, bus=None):
    own = bus is None
    bus = bus or Bus(hub.env["ZHUB_BROKER"], "pytest-pub")
    try:
        env = {"specversion": "1.0", "id": id_ or str(uuid.uuid4()), "source": "pytest",
               "type": type_, "time": time_ms or int(time.time() * 1000), "data": data}
        if subject:
            env["subject"] = subject
        reply = bus.publish(env)
        assert reply["cmd"] == "PUBACK", reply
        return env["id"]
    finally:
        if own:
            bus.close()


def bus_messages(hub, topic, quiet=1.0, timeout=10.0, curve=None):
    """Every message on topic so far, read by a fresh observer group from
    the start of the log (with curve, zhub_bus.Curve, on a CURVE bus)."""
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-observer", curve=curve)
    try:
        bus.join("observer-%s" % uuid.uuid4().hex[:8], [topic], credit=16, start="earliest")
        found, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivery = bus.recv(quiet)
            if delivery is None:
                break
            found.append(delivery["message"])
            bus.ack(delivery["tag"])
        return found
    finally:
        bus.close()


def seed_hubspot(hub, kind, properties):
    status, rec = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/" + kind,
                       {"properties": properties}, HUBSPOT_AUTH)
    assert status == 201, rec
    return rec["id"]
