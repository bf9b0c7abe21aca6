"""The authenticated, encrypted bus on loopback (PROTOCOL.md 16): the real
broker with CURVE, keys made by `zhub keys`, clients speaking the protocol
from Python (tests/integration/zhub_bus.py). A client whose key is not in
the allow-list gets nothing; a known key is held to its patterns and to
the admin flag; a revoked key is cut off without a restart, on the bus and
on the tap."""
import os
import subprocess
import time

import pytest

from harness import BINARIES, wait_until
from zhub_bus import Bus, BusError, Curve, Tap, envelope, read_cert

import zmq


class Keys:
    """Keys made with `zhub keys` in the test's data dir."""

    def __init__(self, hub):
        self.hub = hub
        self.secrets = os.path.join(hub.tmp, "secrets")
        self.env = dict(hub.env, ZHUB_BUS_KEYS=os.path.join(hub.data_dir, "broker", "keys"))
        self.zhub("keys", "new", "--broker", "--out", self.secrets)
        self.broker_public = os.path.join(self.secrets, "broker.key")

    def zhub(self, *args, check=True):
        out = subprocess.run([BINARIES["zhub"]] + list(args), env=self.env, capture_output=True,
                             text=True, timeout=30)
        if check:
            assert out.returncode == 0, out.stderr
        return out

    def new(self, name, publish="", consume="", admin=False):
        """Makes the key; once the broker runs, waits until it is in force
        (the broker reads the allow-list again once a heartbeat)."""
        active = self._active()
        args = ["keys", "new", name, "--out", self.secrets]
        if publish:
            args += ["--publish", publish]
        if consume:
            args += ["--consume", consume]
        if admin:
            args.append("--admin")
        self.zhub(*args)
        if active is not None:
            wait_until(lambda: self._active() > active, 10, 0.05, "key %s in force" % name)
        return self.curve(name)

    def _active(self):
        """How many times the running broker put its allow-list in force
        (None before it started)."""
        procs = [p for p in self.hub.procs if p.name == "broker"]
        if not procs:
            return None
        return procs[-1].log_text().count("event=keys_active")

    def curve(self, name):
        return Curve.load(os.path.join(self.secrets, name + ".key_secret"), self.broker_public)

    def broker_env(self):
        return {"ZHUB_BUS_SECURITY": "curve",
                "ZHUB_BROKER_CERT": os.path.join(self.secrets, "broker.key_secret"),
                "ZHUB_BUS_KEYS": self.env["ZHUB_BUS_KEYS"]}


@pytest.fixture
def secure(hub):
    keys = Keys(hub)
    keys.producer = keys.new("producer", publish="webhook.>,contact.erase")
    keys.consumer = keys.new("consumer", consume="webhook.>")
    keys.admin = keys.new("ops", admin=True)
    hub.start("broker", extra_env=keys.broker_env())
    hub.bus = "tcp://127.0.0.1:%d" % hub.broker_port
    hub.tap = "tcp://127.0.0.1:%d" % hub.tap_port
    return keys


def _stranger(keys):
    """A key pair the broker never heard of, with the right broker key."""
    public, secret = zmq.curve_keypair()
    return Curve(public.decode(), secret.decode(), read_cert(keys.broker_public)["public"])


def _wait_tap_ready(tap, bus, topic):
    """Publishes markers until the tap shows one: the subscription has
    reached the broker (it travels asynchronously)."""
    for i in range(100):
        bus.publish(envelope("probe-%d-%f" % (i, time.time()), topic))
        if tap.recv(0.1):
            return
    raise AssertionError("the tap never delivered")


def test_an_unknown_key_gets_nothing_no_delivery_no_tap(hub, secure):
    producer = Bus(hub.bus, "producer", curve=secure.producer)
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer)
    assert consumer.join("g", ["webhook.>"])["cmd"] == "JOINED"
    # the stranger's handshake is refused: nothing it sends gets through
    stranger = Bus(hub.bus, "stranger", curve=_stranger(secure), hello=False)
    with pytest.raises(BusError):
        stranger.send({"cmd": "HELLO", "v": 1}, timeout=2)
    stranger_tap = Tap(hub.tap, "webhook.>", curve=_stranger(secure))
    # and a plain client does not even speak the same mechanism
    plain_tap = Tap(hub.tap, "webhook.>")
    good_tap = Tap(hub.tap, "webhook.>", curve=secure.consumer)
    _wait_tap_ready(good_tap, producer, "webhook.x.probe")
    assert producer.publish(envelope("secret-1", "webhook.x.y", data={"phone": "+52155"}))["cmd"] \
        == "PUBACK"
    got = good_tap.recv(5)
    while got and got["message"]["id"].startswith("probe"):
        got = good_tap.recv(5)
    assert got and got["message"]["id"] == "secret-1"
    assert stranger_tap.recv(1.5) is None
    assert plain_tap.recv(0.5) is None
    assert "zauth" not in open(hub.procs[0].log_path).read()  # czmq stayed quiet
    for c in (producer, consumer, stranger):
        c.close()
    for t in (stranger_tap, plain_tap, good_tap):
        t.close()


def test_a_known_key_outside_its_patterns_is_refused_with_403(hub, secure):
    producer = Bus(hub.bus, "producer", curve=secure.producer)
    reply = producer.publish(envelope("nope-1", "contact.synced"))
    assert reply["cmd"] == "ERROR" and reply["code"] == 403
    assert "may not publish contact.synced" in reply["reason"]
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer)
    reply = consumer.join("g", ["contact.>"])
    assert reply["cmd"] == "ERROR" and reply["code"] == 403
    reply = consumer.join("g", [">"])
    assert reply["code"] == 403
    # a group someone else made wider cannot be joined through a narrow pattern
    admin = Bus(hub.bus, "ops", curve=secure.admin)
    assert admin.join("wide", [">"])["cmd"] == "JOINED"
    reply = consumer.join("wide", ["webhook.>"])
    assert reply["code"] == 403 and "already has" in reply["reason"]
    # nothing refused was stored or delivered
    assert consumer.join("g", ["webhook.>"])["cmd"] == "JOINED"
    assert producer.publish(envelope("ok-1", "webhook.a.b"))["cmd"] == "PUBACK"
    d = consumer.recv(5)
    assert d["message"]["id"] == "ok-1"
    consumer.ack(d["tag"])
    assert consumer.recv(0.5) is None
    # the tap refuses a subscription wider than the key's patterns: a
    # consumer of webhook.> taps everything ("") and gets nothing at all
    wide_tap = Tap(hub.tap, ">", curve=secure.consumer)
    narrow_tap = Tap(hub.tap, "webhook.>", curve=secure.consumer)
    _wait_tap_ready(narrow_tap, producer, "webhook.probe")
    assert admin.publish(envelope("private-1", "contact.synced"))["cmd"] == "PUBACK"
    assert wide_tap.recv(1.0) is None
    for c in (producer, consumer, admin):
        c.close()
    wide_tap.close()
    narrow_tap.close()


def test_admin_commands_need_an_admin_key(hub, secure):
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer)
    producer = Bus(hub.bus, "producer", curve=secure.producer)
    assert consumer.join("g", ["webhook.>"])["cmd"] == "JOINED"
    for reply in (consumer.group_set("g", max_deliveries=2),
                  consumer.group_reset("g", offset=1),
                  producer.group_reset("g", offset=1)):
        assert reply["cmd"] == "ERROR" and reply["code"] == 403, reply
        assert "needs an admin key" in reply["reason"]
    seq = consumer.next_seq()
    consumer.send({"cmd": "STATS", "seq": seq})
    assert consumer.answer(seq, "STATS_REPLY")["code"] == 403
    # an admin topic needs the flag even with a pattern that matches it
    reply = producer.publish(envelope("erase-1", "contact.erase"))
    assert reply["code"] == 403 and "admin topic" in reply["reason"]
    admin = Bus(hub.bus, "ops", curve=secure.admin)
    assert admin.group_set("g", max_deliveries=2)["cmd"] == "GROUP_OK"
    assert admin.publish(envelope("erase-2", "contact.erase"))["cmd"] == "PUBACK"
    assert "groups" in admin.stats()
    for c in (consumer, producer, admin):
        c.close()


def test_only_the_key_a_delivery_went_to_can_answer_it(hub, secure):
    other = secure.new("other", consume="webhook.>")
    producer = Bus(hub.bus, "producer", curve=secure.producer)
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer)
    assert consumer.join("g", ["webhook.>"], ack_deadline_ms=60000)["cmd"] == "JOINED"
    assert producer.publish(envelope("m-1", "webhook.a.b"))["cmd"] == "PUBACK"
    d = consumer.recv(5)
    thief = Bus(hub.bus, "other", curve=other)
    thief.ack(d["tag"])
    assert thief.error(5, code=403)["reason"] == "this delivery was made to another key"
    consumer.nack(d["tag"], delay_ms=0)
    again = consumer.recv(5)
    assert again["message"]["id"] == "m-1" and again["attempt"] == 2
    for c in (producer, consumer, thief):
        c.close()


def test_a_routing_id_taken_over_by_another_key_loses_its_memberships(hub, secure):
    other = secure.new("other", consume="webhook.>")
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer, routing_id="victim-1")
    assert consumer.join("g", ["webhook.>"])["cmd"] == "JOINED"
    assert consumer.ping()["topics"] == ["g"]
    thief = Bus(hub.bus, "other", curve=other, routing_id="victim-1")
    pong = thief.ping()
    assert not pong.get("topics"), pong
    assert "peer_cut_off" in hub.procs[0].log_text()
    consumer.close()
    thief.close()


def test_a_revoked_key_is_cut_off_without_a_restart(hub, secure):
    producer = Bus(hub.bus, "producer", curve=secure.producer)
    consumer = Bus(hub.bus, "consumer", curve=secure.consumer)
    tap = Tap(hub.tap, "webhook.>", curve=secure.consumer)
    assert consumer.join("g", ["webhook.>"], credit=4, ack_deadline_ms=60000)["cmd"] == "JOINED"
    _wait_tap_ready(tap, producer, "webhook.probe")
    while True:
        d = consumer.recv(1)
        if d is None:
            break
        consumer.ack(d["tag"])
    assert producer.publish(envelope("before-1", "webhook.a.b"))["cmd"] == "PUBACK"
    held = consumer.recv(5)
    assert held["message"]["id"] == "before-1"
    out = secure.zhub("keys", "revoke", "consumer")
    assert "revoked consumer" in out.stdout
    listed = secure.zhub("keys", "list").stdout
    assert "REVOKED" in listed.split("consumer")[1].splitlines()[0]
    # within a heartbeat the broker refuses the key on its open connection
    wait_until(lambda: "key_revoked" in hub.procs[0].log_text()
               or "reason=\"key revoked\"" in hub.procs[0].log_text(), 10, 0.1,
               "the broker to notice the revocation")
    consumer.send({"cmd": "PING"})
    err = consumer.error(5, code=401)
    assert err and "not in the allow-list" in err["reason"]
    # its delivery in flight went back to the group at once: a new member
    # with a valid key gets it, long before the 60 s ack deadline
    replica = secure.new("replica", consume="webhook.>")
    other = Bus(hub.bus, "replica", curve=replica)
    assert other.join("g", ["webhook.>"])["cmd"] == "JOINED"
    d = other.recv(10)
    assert d and d["message"]["id"] == "before-1", d
    # the revoked consumer's tap connection ended; it gets nothing new
    while tap.recv(0.2):
        pass
    assert producer.publish(envelope("after-1", "webhook.a.b"))["cmd"] == "PUBACK"
    assert tap.recv(1.5) is None
    assert consumer.recv(0.5) is None
    # and a new connection with it does not get past the handshake
    again = Bus(hub.bus, "consumer", curve=secure.consumer, hello=False)
    with pytest.raises(BusError):
        again.send({"cmd": "HELLO", "v": 1}, timeout=2)
    for c in (producer, consumer, other, again):
        c.close()
    tap.close()


def test_plain_on_a_network_endpoint_or_curve_without_a_key_stops_the_broker(hub):
    env = dict(hub.env, ZHUB_BROKER="tcp://0.0.0.0:%d" % hub.broker_port)
    out = subprocess.run([BINARIES["broker"]], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "ZHUB_BUS_SECURITY=plain is only for endpoints on this machine" in out.stderr + out.stdout
    env = dict(hub.env)
    del env["ZHUB_BUS_SECURITY"]
    out = subprocess.run([BINARIES["broker"]], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "ZHUB_BROKER_CERT is not set" in out.stderr + out.stdout


def test_a_process_started_before_its_key_is_allowed_gets_in_once_it_is(hub, secure):
    """libzmq does not retry a handshake the broker refused; the C client
    connects anew when a call finds no connection, so the gateway started
    with a key nobody allowed yet reaches the broker once it is allowed."""
    secrets = secure.secrets
    # a key pair outside the allow-list: the secret file only
    secure.zhub("keys", "new", "gateway", "--publish", "webhook.>", "--keys",
                os.path.join(hub.tmp, "elsewhere"), "--out", secrets)
    gateway = hub.start("gateway", extra_env={
        "ZHUB_BUS_SECURITY": "curve",
        "ZHUB_BUS_CERT": os.path.join(secrets, "gateway.key_secret"),
        "ZHUB_BROKER_PUBLIC_KEY": secure.broker_public})
    import json
    import urllib.request

    def broker_seen():
        with urllib.request.urlopen(hub.admin_url + "/readyz", timeout=5) as r:
            return json.loads(r.read())["broker"]
    assert broker_seen() == "unreachable"
    os.rename(os.path.join(hub.tmp, "elsewhere", "gateway.key"),
              os.path.join(secure.env["ZHUB_BUS_KEYS"], "gateway.key"))
    wait_until(lambda: broker_seen() == "ok", 20, 0.2, "the gateway to get in")
    assert "security=curve" in gateway.log_text()
