#!/usr/bin/env python3
"""The bus between hosts, with CURVE (PROTOCOL.md 16): three network
namespaces made here, each a "host" with its own addresses (10.231.x.x,
which exist only inside them), joined by veth pairs to the broker's:

    gateway host (NG)  --veth 10.231.1.0/30--  broker host (NB)  --veth 10.231.2.0/30--  actor host (NA)
    zhub-gateway                               zhub-broker                               zhub-contact-sync
                                               tshark on both veths                      HubSpot and Bird stand-ins

A signed Bird webhook whose text carries a marker goes through the gateway,
the broker and contact-sync to the HubSpot stand-in, while tshark captures
every packet to and from the broker's ports. The capture holds the ZMTP
greetings (which name the CURVE mechanism in clear) and many payload
packets, and never the marker: what crossed the wire was encrypted. A
client on the actor host with a key the broker does not know gets no
connection.

Run by meson (suite netns) as a plain program: exit 0 passed, 1 failed,
77 skipped (not root, or no `ip netns`). Every namespace and process it
made is removed at the end, also on failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration"))

from harness import BINARIES, PEERS_DIR, PYTHON, Proc, wait_until  # noqa: E402

BUS_PORT, TAP_PORT = 17450, 17451
WORKSPACE = "a1405560-c8d3-4b1a-877d-3f449ad95352"
BIRD_KEY = "netns-bird-signing-key"


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def run(*argv, check=True, **kw):
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, **kw)
    if check and out.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(argv), out.returncode,
                                                     out.stderr.strip()))
    return out


# What runs inside a namespace for HTTP (the test itself stays outside).
HTTP_CODE = r"""
import json, sys, urllib.request, urllib.error
method, url, headers, body = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
req = urllib.request.Request(url, data=body.encode() if body else None, method=method,
                             headers=headers)
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode(); status = r.status
except urllib.error.HTTPError as e:
    text = e.read().decode(); status = e.code
print(json.dumps({"status": status, "body": text}))
"""


class Net:
    """The three hosts and what runs on them."""

    def __init__(self, tmp):
        tag = "%d" % (os.getpid() % 100000)
        self.ns = {"broker": "zhub-nb-" + tag, "gateway": "zhub-ng-" + tag,
                   "actor": "zhub-na-" + tag}
        self.links = {"gw": ("zg%sa" % tag, "zg%sb" % tag), "act": ("za%sa" % tag, "za%sb" % tag)}
        self.tmp = tmp
        self.procs = []
        self.made = []

    def up(self):
        for ns in self.ns.values():
            run("ip", "netns", "add", ns)
            self.made.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        for (name, (near, far)), host, net in (
                (("gw", self.links["gw"]), "gateway", "10.231.1"),
                (("act", self.links["act"]), "actor", "10.231.2")):
            # made inside the broker's namespace, so nothing touches the host's
            run("ip", "-n", self.ns["broker"], "link", "add", near, "type", "veth", "peer",
                "name", far)
            run("ip", "-n", self.ns["broker"], "link", "set", far, "netns", self.ns[host])
            run("ip", "-n", self.ns["broker"], "addr", "add", net + ".1/30", "dev", near)
            run("ip", "-n", self.ns[host], "addr", "add", net + ".2/30", "dev", far)
            run("ip", "-n", self.ns["broker"], "link", "set", near, "up")
            run("ip", "-n", self.ns[host], "link", "set", far, "up")

    def start(self, host, name, argv, env, ready_text="event=ready"):
        proc = Proc(name, ["ip", "netns", "exec", self.ns[host]] + argv, env,
                    os.path.join(self.tmp, name + ".log"), ready_text, ready_timeout=30)
        self.procs.append(proc)
        return proc.start()

    def http(self, host, method, url, headers=None, body=""):
        out = run("ip", "netns", "exec", self.ns[host], PYTHON, "-c", HTTP_CODE, method, url,
                  json.dumps(headers or {}), body)
        reply = json.loads(out.stdout)
        try:
            reply["json"] = json.loads(reply["body"]) if reply["body"] else None
        except ValueError:
            reply["json"] = None
        return reply

    def down(self):
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception:
                traceback.print_exc()
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def sign_bird(key, timestamp, url, body):
    import base64
    import hashlib
    import hmac
    message = ("%s\n%s\n" % (timestamp, url)).encode() + hashlib.sha256(body).digest()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def main():
    if os.geteuid() != 0:
        skip("network namespaces need root")
    if shutil.which("ip") is None or \
            subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        skip("`ip netns` is not available")
    if shutil.which("tshark") is None:
        raise AssertionError("tshark is missing: ./dev installs it (PACKAGES)")
    tmp = tempfile.mkdtemp(prefix="zhub-netns-")
    net = Net(tmp)
    ok = False
    try:
        net.up()
        ok = scenario(net, tmp)
    except Exception:
        traceback.print_exc()
    finally:
        if not ok:
            for proc in net.procs:
                print("==== %s ====\n%s" % (proc.name, proc.log_tail(40)))
        net.down()
        left = [ns for ns in net.made if ns in run("ip", "netns", "list").stdout]
        if left:
            print("FAIL: namespaces left behind: %s" % left)
            ok = False
        shutil.rmtree(tmp, ignore_errors=True)
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


def scenario(net, tmp):
    data = os.path.join(tmp, "data")
    secrets = os.path.join(tmp, "secrets")
    keys_dir = os.path.join(tmp, "allow")
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZHUB_")}
    base.update({"ZHUB_LOG_LEVEL": "debug", "ZHUB_BUS_SECURITY": "curve",
                 "ZHUB_BROKER_PUBLIC_KEY": os.path.join(secrets, "broker.key")})

    def zhub(*args):
        return run(BINARIES["zhub"], *args, env=dict(base, ZHUB_DATA_DIR=data))
    zhub("keys", "new", "--broker", "--out", secrets)
    zhub("keys", "new", "gateway", "--publish", "webhook.>", "--keys", keys_dir, "--out", secrets)
    zhub("keys", "new", "contact-sync", "--publish", "contact.>,dlq.contact-sync",
         "--consume", "webhook.bird.>,webhook.hubspot.contact.>,conversation.started,"
         "contact.reconcile,contact.erase,contact.forget", "--keys", keys_dir, "--out", secrets)

    # the broker's host: the bus and the tap on its own addresses only
    pcap = os.path.join(tmp, "bus.pcapng")
    tshark = net.start("broker", "tshark",
                       ["tshark", "-n", "-i", net.links["gw"][0], "-i", net.links["act"][0],
                        "-f", "tcp port %d or tcp port %d" % (BUS_PORT, TAP_PORT), "-w", pcap],
                       dict(base), ready_text="Capturing on")
    net.start("broker", "broker", [BINARIES["broker"]],
              dict(base, ZHUB_DATA_DIR=os.path.join(data, "nb"),
                   ZHUB_BROKER="tcp://*:%d" % BUS_PORT, ZHUB_BROKER_TAP="tcp://*:%d" % TAP_PORT,
                   ZHUB_BROKER_CERT=os.path.join(secrets, "broker.key_secret"),
                   ZHUB_BUS_KEYS=keys_dir))

    # the actor's host: the stand-ins on its loopback, contact-sync
    ports = {"hubspot": 18090, "bird": 18092}
    for kind, port in ports.items():
        net.start("actor", kind + "-peer",
                  [PYTHON, os.path.join(PEERS_DIR, "%s_peer.py" % kind), "--port", str(port),
                   "--max-seconds", "300"], dict(base), ready_text="READY")
    hubspot, bird = ("http://127.0.0.1:%d" % ports[k] for k in ("hubspot", "bird"))
    net.start("actor", "contact-sync", [BINARIES["contact-sync"]],
              dict(base, ZHUB_DATA_DIR=os.path.join(data, "na"),
                   ZHUB_BROKER="tcp://10.231.2.1:%d" % BUS_PORT,
                   ZHUB_BUS_CERT=os.path.join(secrets, "contact-sync.key_secret"),
                   ZHUB_HUBSPOT_BASE_URL=hubspot, ZHUB_BIRD_BASE_URL=bird,
                   ZHUB_HUBSPOT_TOKEN="test-hubspot-token", ZHUB_BIRD_API_KEY="test-bird-key",
                   ZHUB_BIRD_WORKSPACE_ID=WORKSPACE, ZHUB_HUBSPOT_BATCH_WINDOW="0",
                   ZHUB_INSTANCE="actor-host"))

    # the gateway's host
    public = "http://127.0.0.1:18080"
    net.start("gateway", "gateway", [BINARIES["gateway"]],
              dict(base, ZHUB_DATA_DIR=os.path.join(data, "ng"),
                   ZHUB_BROKER="tcp://10.231.1.1:%d" % BUS_PORT,
                   ZHUB_BUS_CERT=os.path.join(secrets, "gateway.key_secret"),
                   ZHUB_GATEWAY_LISTEN="127.0.0.1:18080", ZHUB_ADMIN_LISTEN="127.0.0.1:18081",
                   ZHUB_PUBLIC_URL=public, ZHUB_BIRD_SIGNING_KEY=BIRD_KEY,
                   ZHUB_HUBSPOT_APP_SECRET="netns-hubspot-secret"))
    def broker_seen_by_gateway():
        # with its spool on the gateway is ready either way; it says which
        return (net.http("gateway", "GET", "http://127.0.0.1:18081/readyz")["json"] or {}) \
            .get("broker")
    wait_until(lambda: broker_seen_by_gateway() == "ok", 30, 0.2,
               "the gateway to reach the broker over CURVE")

    # a WhatsApp message from a person Bird knows, its text a marker
    marker = "ZHUB-PLAINTEXT-MARKER-%s" % uuid.uuid4().hex
    seeded = net.http("actor", "POST", "%s/workspaces/%s/contacts" % (bird, WORKSPACE),
                      {"Authorization": "AccessKey test-bird-key",
                       "Content-Type": "application/json"},
                      json.dumps({"displayName": "Ana Pérez", "identifiers": [
                          {"key": "phonenumber", "value": "+5215512345678"}]}))
    assert seeded["status"] == 201, seeded
    bird_id = seeded["json"]["id"]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    event = {"service": "channels", "event": "whatsapp.inbound", "payload": {
        "id": str(uuid.uuid4()), "channelId": "52ad151f-f7b4-46f9-a5c6-d3318e650c84",
        "sender": {"contact": {"id": bird_id, "identifierKey": "phonenumber",
                               "identifierValue": "+5215512345678"}},
        "receiver": {"connector": {"id": "60bf59d6-fc6f-4511-89c4-75d9127d7a7c",
                                   "identifierValue": ""}},
        "body": {"type": "text", "text": {"text": "Hola " + marker}},
        "parts": [{"platformReference": "wamid.NETNS"}], "status": "delivered", "reason": "",
        "direction": "incoming", "createdAt": stamp, "updatedAt": stamp}}
    body = json.dumps(event, separators=(",", ":"))
    url = public + "/v1/webhooks/bird"
    ts = str(int(time.time()))
    reply = net.http("gateway", "POST", url, {
        "Content-Type": "application/json",
        "messagebird-signature": sign_bird(BIRD_KEY, ts, url, body.encode()),
        "messagebird-request-timestamp": ts, "messagebird-request-id": str(uuid.uuid4())}, body)
    assert 200 <= reply["status"] < 300, reply

    def in_hubspot():
        contacts = net.http("actor", "GET", hubspot + "/__peer/state")["json"]["contacts"]
        rows = contacts.values() if isinstance(contacts, dict) else contacts
        return [c for c in rows if c["properties"].get("bird_contact_id") == bird_id]
    wait_until(in_hubspot, 30, 0.3, "the contact to reach HubSpot through the CURVE bus")
    sync_log = [p for p in net.procs if p.name == "contact-sync"][0].log_text()
    assert "topic=webhook.bird.whatsapp.inbound" in sync_log

    # a stranger on the actor host: no key of the allow-list, no connection
    stranger = run("ip", "netns", "exec", net.ns["actor"], PYTHON, "-c", r"""
import sys, zmq
sys.path.insert(0, sys.argv[1])
from zhub_bus import Bus, BusError, Curve, read_cert
public, secret = zmq.curve_keypair()
bus = Bus(sys.argv[2], "stranger", hello=False,
          curve=Curve(public.decode(), secret.decode(), read_cert(sys.argv[3])["public"]))
try:
    bus.send({"cmd": "HELLO", "v": 1}, timeout=3)
    print("connected")
except BusError:
    print("refused")
""", os.path.join(SOURCE_ROOT, "tests", "integration"), "tcp://10.231.2.1:%d" % BUS_PORT,
        os.path.join(secrets, "broker.key"))
    assert stranger.stdout.strip() == "refused", stranger.stdout + stranger.stderr

    # contact-sync's key from the actor host, outside its patterns: 403
    outside = run("ip", "netns", "exec", net.ns["actor"], PYTHON, "-c", r"""
import sys
sys.path.insert(0, sys.argv[1])
from zhub_bus import Bus, Curve, envelope
bus = Bus(sys.argv[2], "contact-sync", curve=Curve.load(sys.argv[3], sys.argv[4]))
reply = bus.publish(envelope("forged-1", "webhook.bird.contact.updated"))
print(reply["cmd"], reply.get("code"))
""", os.path.join(SOURCE_ROOT, "tests", "integration"), "tcp://10.231.2.1:%d" % BUS_PORT,
        os.path.join(secrets, "contact-sync.key_secret"), os.path.join(secrets, "broker.key"))
    assert outside.stdout.split() == ["ERROR", "403"], outside.stdout + outside.stderr

    # the gateway's key revoked: cut off without a restart, not ready
    zhub("keys", "revoke", "gateway", "--keys", keys_dir)
    broker_proc = [p for p in net.procs if p.name == "broker"][0]
    wait_until(lambda: "peer_cut_off" in broker_proc.log_text(), 15, 0.2,
               "the broker to cut the gateway off")
    wait_until(lambda: broker_seen_by_gateway() == "unreachable", 30, 0.3,
               "the gateway to lose the bus")

    # what went over the wire
    tshark.stop()
    with open(pcap, "rb") as f:
        captured = f.read()
    payload = run("tshark", "-n", "-r", pcap, "-Y", "tcp.len > 0", "-T", "fields",
                  "-e", "tcp.dstport").stdout.split()
    assert len(payload) >= 10, "too few packets captured (%d): the capture saw nothing" \
        % len(payload)
    assert str(BUS_PORT) in payload
    assert b"CURVE" in captured, "no ZMTP greeting naming CURVE in the capture"
    assert marker.encode() not in captured, "the marker crossed the wire in plaintext"
    assert b"whatsapp.inbound" not in captured and b"Ana P" not in captured
    print("captured %d payload packets, %d bytes; no plaintext" % (len(payload), len(captured)))
    return True


if __name__ == "__main__":
    sys.exit(main())
