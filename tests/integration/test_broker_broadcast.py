"""Broadcast delivery (PROTOCOL.md 7.8): a control topic such as
contact.forget reaches every replica of a group, not one member. Each
replica (HELLO's instance) acks its own copy; the message is done for the
group, and the broker's erase goes on, only once every replica has; a
replica that joins later gets the broadcasts it missed before any other
work. Everything else is still delivered to one member."""
import time

from harness import wait_until
from zhub_bus import Bus, Tap, envelope


def _forget(request, phone="+5215512345678"):
    return envelope("forget:" + request, "contact.forget", subject="erase:" + request,
                    source="zhub/contact-sync",
                    data={"request": request, "phone": phone, "identifiers": [phone]})


def _replicas(hub, names, credit=4):
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    members = {}
    for name in names:
        member = Bus(bus, "contact-sync", instance=name)
        assert member.join("contact-sync", ["contact.>"], credit=credit,
                           ack_deadline_ms=60000)["cmd"] == "JOINED"
        members[name] = member
    return members


def _next_of(member, wanted):
    """The delivery of message `wanted`, acking the others (the tap's probes)."""
    while True:
        d = member.recv(5)
        if d is None or d["message"]["id"] == wanted:
            return d
        member.ack(d["tag"])


def test_a_broadcast_reaches_every_replica_each_acking_its_own_copy(hub):
    hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    members = _replicas(hub, ["host-a", "host-b", "host-c"])
    producer = Bus(bus, "producer")
    assert producer.publish(_forget("r1"))["cmd"] == "PUBACK"
    assert producer.publish(envelope("synced-1", "contact.synced", subject="contact:1"))["cmd"] \
        == "PUBACK"
    got = {}
    for name, member in members.items():
        d = member.recv(5)
        assert d and d["message"]["type"] == "contact.forget", (name, d)
        assert d["group"] == "contact-sync"
        got[name] = d
    # three deliveries, three tags: each replica answers for its own copy
    assert len({d["tag"] for d in got.values()}) == 3
    for name, member in members.items():
        member.ack(got[name]["tag"])
    # the ordinary message goes to exactly one of them (so does the
    # broker's contact.erased, which follows once all three confirmed)
    others = []
    for member in members.values():
        while True:
            d = member.recv(1)
            if d is None:
                break
            others.append(d["message"]["id"])
            member.ack(d["tag"])
    assert sorted(others) == ["erased:r1", "synced-1"], others
    stats = producer.stats()["groups"]
    for name in members:
        assert stats["contact-sync~" + name]["acked"] == 1
        assert stats["contact-sync~" + name]["lag"] == 0
    for c in list(members.values()) + [producer]:
        c.close()


def test_the_erase_goes_on_only_once_every_replica_confirmed(hub):
    hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    tap = Tap("tcp://127.0.0.1:%d" % hub.tap_port, "contact.erased")
    members = _replicas(hub, ["host-a", "host-b", "host-c"])
    producer = Bus(bus, "producer")
    # the tap's subscription is in place once it shows a message
    for i in range(100):
        producer.publish(envelope("probe-%d" % i, "contact.erased", subject="erase:p"))
        if tap.recv(0.1):
            break
    while tap.recv(0.2):
        pass
    assert producer.publish(_forget("r2"))["cmd"] == "PUBACK"
    deliveries = {name: _next_of(m, "forget:r2") for name, m in members.items()}
    assert all(d and d["message"]["id"] == "forget:r2" for d in deliveries.values())
    members["host-a"].ack(deliveries["host-a"]["tag"])
    members["host-b"].ack(deliveries["host-b"]["tag"])
    members["host-a"].ping()
    members["host-b"].ping()
    # two of three: the group is not done with it, so nothing is erased yet
    groups = producer.stats()["groups"]
    assert groups["contact-sync~host-a"]["lag"] == 0
    assert groups["contact-sync~host-b"]["lag"] == 0
    assert groups["contact-sync~host-c"]["in_flight"] == 1
    erased_before = producer.stats()["topics"].get("contact.erased", 0)
    members["host-c"].ack(deliveries["host-c"]["tag"])
    erased = None
    while erased is None or erased["message"]["data"].get("request") != "r2":
        erased = tap.recv(15)
        assert erased, "contact.erased did not come after the last replica acked"
    assert producer.stats()["topics"]["contact.erased"] == erased_before + 1
    for c in list(members.values()) + [producer]:
        c.close()
    tap.close()


def test_a_late_replica_gets_the_missed_broadcast_before_any_other_work(hub):
    hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    first = _replicas(hub, ["host-a"], credit=1)["host-a"]
    producer = Bus(bus, "producer")
    assert producer.publish(envelope("n0", "contact.synced", subject="contact:0"))["cmd"] == "PUBACK"
    held = first.recv(5)
    assert held["message"]["id"] == "n0"     # host-a keeps its only credit busy
    assert producer.publish(_forget("r3"))["cmd"] == "PUBACK"
    assert producer.publish(envelope("n1", "contact.synced", subject="contact:1"))["cmd"] == "PUBACK"
    b = first.recv(5)
    assert b["message"]["id"] == "forget:r3"
    first.ack(b["tag"])
    # host-d joins later: its first delivery is the erase it missed, and
    # n1 waits until it has confirmed it
    late = _replicas(hub, ["host-d"], credit=5)["host-d"]
    d = late.recv(5)
    assert d["message"]["id"] == "forget:r3", d["message"]
    assert late.recv(1.0) is None
    late.ack(d["tag"])
    n1 = late.recv(5)
    assert n1 and n1["message"]["id"] == "n1"
    late.ack(n1["tag"])
    first.ack(held["tag"])
    for c in (first, late, producer):
        c.close()


def test_replicas_keep_their_place_across_a_broker_restart(hub):
    broker = hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    members = _replicas(hub, ["host-a", "host-b"])
    producer = Bus(bus, "producer")
    assert producer.publish(_forget("r4"))["cmd"] == "PUBACK"
    da = members["host-a"].recv(5)
    members["host-a"].ack(da["tag"])
    members["host-a"].ping()
    db = members["host-b"].recv(5)
    assert db["message"]["id"] == "forget:r4"
    for c in list(members.values()) + [producer]:
        c.close()
    broker.stop()
    hub.start("broker")
    members = _replicas(hub, ["host-a", "host-b"])
    # host-b never acked: it gets it again; host-a did: it does not
    again = members["host-b"].recv(5)
    assert again and again["message"]["id"] == "forget:r4"
    members["host-b"].ack(again["tag"])
    assert members["host-a"].recv(1.0) is None
    for c in members.values():
        c.close()
