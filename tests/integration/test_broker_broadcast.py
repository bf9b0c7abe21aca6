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
    # (collected until both came, not until a quiet second: on a loaded
    # machine the erase can take longer than that)
    others = []
    deadline = time.monotonic() + 30
    while len(others) < 2 and time.monotonic() < deadline:
        for member in members.values():
            d = member.recv(0.2)
            if d is not None:
                others.append(d["message"]["id"])
                member.ack(d["tag"])
    for member in members.values():
        assert member.recv(0.5) is None     # and nothing more
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


def test_the_log_keeps_the_request_until_every_contact_sync_replica_handled_it(hub):
    """Each contact-sync replica answers contact.erase with its own forget.
    One replica's forget must not get the log redacted while another still
    has the request to handle: the request names the person, and a replica
    handed a redacted request would ack it untouched and never search its
    own store."""
    hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    tap = Tap("tcp://127.0.0.1:%d" % hub.tap_port, "contact.erased")
    members = {}
    for name in ("cs-a", "cs-b"):
        member = Bus(bus, "contact-sync", instance=name)
        assert member.join("contact-sync", ["contact.erase", "webhook.>"], credit=4,
                           ack_deadline_ms=60000)["cmd"] == "JOINED"
        members[name] = member
    producer = Bus(bus, "producer")
    erase = envelope("erase:r5", "contact.erase", subject="erase:r5", source="zhub/cli",
                     data={"request": "r5", "identifier": "+5215512345678"})
    assert producer.publish(erase)["cmd"] == "PUBACK"
    got = {name: _next_of(m, "erase:r5") for name, m in members.items()}
    # cs-a handles it: its forget goes out, nobody else takes forgets
    assert producer.publish(envelope("forget:r5~cs-a", "contact.forget", subject="erase:r5",
                                     source="zhub/contact-sync",
                                     data={"request": "r5", "replica": "cs-a",
                                           "phone": "+5215512345678",
                                           "identifiers": ["+5215512345678"]}))["cmd"] == "PUBACK"
    members["cs-a"].ack(got["cs-a"]["tag"])
    members["cs-a"].ping()
    # cs-b has not handled it: no erase yet, and its copy comes back whole
    assert tap.recv(3.0) is None
    members["cs-b"].nack(got["cs-b"]["tag"], delay_ms=0)
    again = _next_of(members["cs-b"], "erase:r5")
    assert again["message"]["data"]["identifier"] == "+5215512345678", again["message"]
    members["cs-b"].ack(again["tag"])
    erased = tap.recv(15)
    assert erased and erased["message"]["id"] == "erased:r5~cs-a", erased
    for c in list(members.values()) + [producer]:
        c.close()
    tap.close()


def test_a_forget_still_to_be_read_is_not_redacted_by_an_earlier_one(hub):
    """Two contact-sync replicas each send a forget naming the same person.
    The first one's erase must leave the second whole while a group has
    still to read it: redacted, it would be acked untouched and the
    identifiers only that replica knew would stay in the group's store."""
    hub.start("broker")
    bus = "tcp://127.0.0.1:%d" % hub.broker_port
    tap = Tap("tcp://127.0.0.1:%d" % hub.tap_port, "contact.erased")
    member = Bus(bus, "activity-log", instance="al-a")
    assert member.join("activity-log", ["contact.forget"], credit=1,
                       ack_deadline_ms=60000)["cmd"] == "JOINED"
    producer = Bus(bus, "producer")
    for replica, ids in (("cs-a", ["ana@example.com"]),
                         ("cs-b", ["ana@example.com", "+5215512345678", "b-ana"])):
        assert producer.publish(envelope(
            "forget:r6~" + replica, "contact.forget", subject="erase:r6",
            source="zhub/contact-sync",
            data={"request": "r6", "replica": replica, "identifiers": ids}))["cmd"] == "PUBACK"
    first = _next_of(member, "forget:r6~cs-a")
    member.ack(first["tag"])
    second = _next_of(member, "forget:r6~cs-b")
    # the first forget's erase completes while the second is in flight
    erased = tap.recv(15)
    assert erased and erased["message"]["id"] == "erased:r6~cs-a", erased
    member.nack(second["tag"], delay_ms=0)
    again = _next_of(member, "forget:r6~cs-b")
    assert again["message"]["data"].get("identifiers") == \
        ["ana@example.com", "+5215512345678", "b-ana"], again["message"]
    member.ack(again["tag"])
    erased = tap.recv(15)
    assert erased and erased["message"]["id"] == "erased:r6~cs-b", erased
    for c in (member, producer):
        c.close()
    tap.close()
