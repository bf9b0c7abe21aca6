"""The operator's side of zhub-broker: group settings changed at run time
(GROUP_SET, `zhub group set`), replay (GROUP_RESET, `zhub group reset`),
STATS (`zhub status`), publishing from the command line (`zhub pub`) and
the tap (`zhub tail`, zhub_bus.Tap)."""
import json
import subprocess
import time

import pytest

from harness import BINARIES, free_port, wait_until
from zhub_bus import Bus, Tap, envelope

FAST = {
    "ZHUB_BROKER_ACK_DEADLINE": "1s",
    "ZHUB_BROKER_BACKOFF": "200ms,400ms",
    "ZHUB_BROKER_MAX_DELIVERIES": "5",
}


@pytest.fixture
def broker(hub):
    hub.env["ZHUB_BROKER_TAP"] = "tcp://127.0.0.1:%d" % free_port()
    return hub.start("broker", extra_env=FAST)


@pytest.fixture
def bus(hub, broker):
    clients = []

    def make(name="pytest"):
        client = Bus(hub.env["ZHUB_BROKER"], name)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def zhub(hub, *args, timeout=15):
    return subprocess.run([BINARIES["zhub"]] + list(args), env=hub.env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def drain(consumer, timeout=1.0, ack=True):
    got = []
    while True:
        d = consumer.recv(timeout)
        if d is None:
            return got
        got.append(d)
        if ack:
            consumer.ack(d["tag"])


def test_group_set_changes_max_deliveries_of_an_existing_group(hub, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("billing", ["invoice.>"], credit=1, max_deliveries=5)
    out = zhub(hub, "group", "set", "billing", "max_deliveries=1", "backoff=300ms,600ms",
               "ack_deadline=2s", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True, "group": "billing", "action": "set"}
    producer.publish(envelope("inv-1", "invoice.created", subject="invoice:1"))
    d = consumer.recv(5)
    consumer.nack(d["tag"], code=500, reason="boom")
    # one delivery allowed now: the first failure dead-letters it
    reader = bus("dlq-reader")
    reader.join("dlq-reader", ["dlq.billing"], credit=1)
    dead = reader.recv(5)
    assert dead is not None and dead["message"]["data"]["cause"] == "max_deliveries"
    group = producer.stats()["groups"]["billing"]
    assert group["max_deliveries"] == 1 and group["ack_deadline_ms"] == 2000
    assert group["backoff_ms"] == [300, 600] and group["dead_letters"] == 1


def test_group_settings_survive_a_restart(hub, broker, bus):
    consumer = bus("consumer")
    consumer.join("audit", ["contact.>"], credit=1)
    reply = consumer.group_set("audit", max_deliveries=9, ack_deadline_ms=4000,
                               backoff_ms=[100, 200, 300], max_in_flight=2)
    assert reply["cmd"] == "GROUP_OK" and reply["group"] == "audit"
    assert broker.stop() == 0
    broker.start()
    admin = bus("admin")
    group = admin.stats()["groups"]["audit"]
    assert (group["max_deliveries"], group["ack_deadline_ms"], group["backoff_ms"],
            group["max_in_flight"]) == (9, 4000, [100, 200, 300], 2)


def test_max_in_flight_caps_a_members_credit(bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("sync", ["job.>"], credit=10, ack_deadline_ms=10000)
    assert consumer.group_set("sync", max_in_flight=2)["cmd"] == "GROUP_OK"
    producer.publish_many([envelope("j-%d" % i, "job.run") for i in range(6)])
    first = [consumer.recv(2) for _ in range(2)]
    assert all(first)
    assert consumer.recv(0.7) is None, "more than max_in_flight in flight"
    consumer.ack(first[0]["tag"])
    assert consumer.recv(2) is not None
    # 0 through the CLI means no cap: the member's credit (10) applies again
    assert consumer.group_set("sync", max_in_flight=1000000)["cmd"] == "GROUP_OK"
    assert len(drain(consumer, 0.7, ack=False)) == 3


def test_group_set_refuses_an_unknown_group_and_bad_values(hub, bus):
    out = zhub(hub, "group", "set", "nobody", "max_deliveries=2")
    assert out.returncode == 1 and "no such group" in out.stderr
    assert zhub(hub, "group", "set", "nobody", "max_deliveries=0").returncode == 2
    assert zhub(hub, "group", "set", "nobody", "colour=blue").returncode == 2
    assert zhub(hub, "group", "set", "nobody", "ack_deadline=5ms").returncode == 2
    reply = bus("admin").group_set("nobody", max_deliveries=2)
    assert reply["cmd"] == "ERROR" and reply["code"] == 404


def test_group_reset_to_an_offset_replays_acked_messages(hub, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("mapper", ["contact.>"], credit=10)
    acks = producer.publish_many([envelope("c-%d" % i, "contact.synced", subject="contact:%d" % i)
                                  for i in range(5)])
    first = drain(consumer)
    assert sorted(d["message"]["id"] for d in first) == ["c-%d" % i for i in range(5)]
    assert consumer.ping() is not None
    out = zhub(hub, "group", "reset", "mapper", "--to", str(acks[2]["offset"]), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["offset"] == acks[2]["offset"]
    again = drain(consumer)
    assert [d["message"]["id"] for d in again] == ["c-2", "c-3", "c-4"]
    assert all(d["attempt"] == 1 for d in again)
    assert drain(consumer, 0.5) == []


def test_group_reset_to_a_time_replays_from_that_moment(hub, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("mapper", ["deal.>"], credit=10)
    producer.publish_many([envelope("old-%d" % i, "deal.updated") for i in range(3)])
    time.sleep(0.3)
    cut = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 0.1)) + "Z"
    cut_ms = int((time.time() - 0.1) * 1000)
    time.sleep(0.2)
    producer.publish_many([envelope("new-%d" % i, "deal.updated") for i in range(3)])
    assert len(drain(consumer)) == 6
    reply = consumer.group_reset("mapper", time_ms=cut_ms)
    assert reply["cmd"] == "GROUP_OK" and reply["offset"] == 4
    assert [d["message"]["id"] for d in drain(consumer)] == ["new-0", "new-1", "new-2"]
    # the CLI takes RFC 3339 too (second precision here: the old ones may come back)
    out = zhub(hub, "group", "reset", "mapper", "--to", cut)
    assert out.returncode == 0, out.stderr
    assert {d["message"]["id"] for d in drain(consumer)} >= {"new-0", "new-1", "new-2"}


def test_status_shows_topics_groups_and_lag_and_exits_3_without_a_broker(hub, broker, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("reporting", ["contact.>"], credit=2)
    producer.publish_many([envelope("s-%d" % i, "contact.synced", data={"n": i}) for i in range(5)])
    got = [consumer.recv(2) for _ in range(2)]
    assert all(got)
    out = zhub(hub, "status", "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["topics"] == {"contact.synced": 5} and stats["topic_bytes"]["contact.synced"] > 0
    group = stats["groups"]["reporting"]
    assert group["in_flight"] == 2 and group["lag"] == 5 and len(group["members"]) == 1
    assert stats["log"]["last"] == 5 and stats["broker"]["rss_bytes"] > 0
    assert stats["tap"]["endpoint"] == hub.env["ZHUB_BROKER_TAP"]
    human = zhub(hub, "status")
    assert human.returncode == 0 and "reporting" in human.stdout and "contact.synced" in human.stdout
    broker.stop()
    down = zhub(hub, "status", "--timeout", "500ms")
    assert down.returncode == 3


def test_pub_publishes_confirmed_and_is_idempotent_with_an_id(hub, bus):
    out = zhub(hub, "pub", "contact.synced", "contact:7", '{"id": 18446744073709551615, "x": "y"}',
               "--id", "ops-1", "--json")
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert first["ok"] and first["duplicate"] is False and first["offset"] == 1
    again = json.loads(zhub(hub, "pub", "contact.synced", "contact:7", '{"x": 1}', "--id", "ops-1",
                            "--json").stdout)
    assert again["duplicate"] is True and again["offset"] == 1
    consumer = bus("consumer")
    consumer.join("g", ["contact.>"], credit=1)
    d = consumer.recv(5)
    assert d["message"]["subject"] == "contact:7" and d["message"]["source"] == "zhub/cli"
    assert d["message"]["data"] == {"id": 18446744073709551615, "x": "y"}
    assert zhub(hub, "pub", "Bad Topic", "-", "{}").returncode == 2
    assert zhub(hub, "pub", "a.b", "-", "[1]").returncode == 2
    assert zhub(hub, "pub", "a.b", "-", "{nope").returncode == 2


def test_tail_and_the_tap_mirror_committed_messages(hub, bus):
    tail = subprocess.Popen([BINARIES["zhub"], "tail", "webhook.*.contact", "--count", "2",
                             "--timeout", "8s", "--json"], env=hub.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    tap = Tap(hub.env["ZHUB_BROKER_TAP"], "*.*.contact")
    producer = bus("producer")
    # wait until both subscriptions ("webhook." and "") reached the broker
    # (a PUB drops what it sends before a subscriber is known)
    wait_until(lambda: producer.stats()["tap"]["subscriptions"] >= 2, 5, what="tap subscribers")
    producer.publish(envelope("t-1", "webhook.hubspot.contact", subject="contact:1",
                              data={"k": 1}))
    producer.publish(envelope("t-2", "deal.updated"))
    producer.publish(envelope("t-3", "webhook.bird.contact"))
    out, err = tail.communicate(timeout=10)
    assert tail.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(m["offset"], m["topic"], m["id"]) for m in lines] == [
        (1, "webhook.hubspot.contact", "t-1"), (3, "webhook.bird.contact", "t-3")]
    assert lines[0]["data"] == {"k": 1} and lines[0]["subject"] == "contact:1"
    seen = [tap.recv(2), tap.recv(2)]
    tap.close()
    assert [m["message"]["id"] for m in seen] == ["t-1", "t-3"]
    # nobody waits for the tap: with no count reached, --timeout ends it with 1
    quiet = zhub(hub, "tail", "nothing.here", "--count", "1", "--timeout", "300ms")
    assert quiet.returncode == 1
