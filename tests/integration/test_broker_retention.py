"""Retention: messages done for every group whose patterns match them are
trimmed once past their topic's age or size limit, so the broker's LMDB
file stays bounded under steady load (LMDB reuses the freed pages).
Messages a group still has to process are never trimmed."""
import os
import time

import pytest

from harness import free_port, wait_until
from zhub_bus import Bus, envelope

RETENTION = {
    "ZHUB_BROKER_RETENTION": "1s",
    "ZHUB_BROKER_RETENTION_TOPICS": "keep.>=0,big.>=0/4k",
    "ZHUB_BROKER_ACK_DEADLINE": "5s",
}


@pytest.fixture
def broker(hub):
    hub.env["ZHUB_BROKER_TAP"] = "tcp://127.0.0.1:%d" % free_port()
    return hub.start("broker", extra_env=RETENTION)


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


def consume_all(consumer, count, timeout=10):
    ids = []
    deadline = time.monotonic() + timeout
    while len(ids) < count and time.monotonic() < deadline:
        d = consumer.recv(1)
        if d is not None:
            ids.append(d["message"]["id"])
            consumer.ack(d["tag"])
    assert consumer.ping() is not None
    return ids


def test_retention_trims_what_every_group_is_done_with_and_keeps_the_rest(bus):
    producer, fast, slow = bus("producer"), bus("fast"), bus("slow")
    fast.join("fast", ["contact.>"], credit=50)
    slow.join("slow", ["deal.>"], credit=1)
    producer.publish_many([envelope("c-%d" % i, "contact.synced") for i in range(40)])
    producer.publish_many([envelope("d-%d" % i, "deal.updated") for i in range(5)])
    producer.publish_many([envelope("k-%d" % i, "keep.forever") for i in range(3)])
    producer.publish_many([envelope("b-%d" % i, "big.blob", data={"pad": "x" * 1000})
                           for i in range(10)])
    assert len(consume_all(fast, 40)) == 40
    held = slow.recv(2)            # deal d-0 in flight, d-1..4 pending: never trimmed
    assert held is not None
    time.sleep(1.3)

    def trimmed():
        # publishing gives the broker a turn with writes, which carries the sweep
        producer.publish(envelope("tick-%f" % time.time(), "tick.tock"))
        return producer.stats()["log"]["trimmed"] >= 40 + 6
    wait_until(trimmed, 8, interval=0.3, what="retention to trim")
    stats = producer.stats()
    topics = stats["topics"]
    assert topics.get("contact.synced", 0) == 0          # acked by its only group and old
    assert topics["deal.updated"] == 5                   # the slow group still needs them
    assert topics["keep.forever"] == 3                   # rule keep.>=0: no age limit
    assert stats["topic_bytes"]["big.blob"] <= 4096      # rule big.>=0/4k: size limit
    assert 2 <= topics["big.blob"] <= 4
    assert stats["log"]["first"] > 1
    # the group that was behind still gets everything it had not done
    slow.ack(held["tag"])
    rest = consume_all(slow, 4)
    assert rest == ["d-1", "d-2", "d-3", "d-4"]


def test_steady_load_keeps_the_store_file_bounded(hub, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("sink", ["load.item"], credit=500)
    data_file = os.path.join(hub.data_dir, "broker", "data.mdb")
    body = {"pad": "z" * 1000}
    per_round = 400
    sent = 0
    ticks = 0

    # A steady load as rounds: publish a round, consume and ack it, wait
    # until retention has trimmed all of it, then the next. What the store
    # holds at its peak is one round whatever the machine's speed, so the
    # figures below measure page reuse, not how fast a loaded machine ran.
    def one_round():
        nonlocal sent, ticks
        for _ in range(per_round // 100):
            replies = producer.publish_many(
                [envelope("l-%d" % (sent + i), "load.item", data=body) for i in range(100)])
            assert all(r["cmd"] == "PUBACK" for r in replies)
            sent += 100
        assert len(consume_all(consumer, per_round, timeout=60)) == per_round

        def trimmed():
            nonlocal ticks
            # publishing gives the broker a turn with writes, which carries the sweep
            producer.publish(envelope("tick-%d" % ticks, "tick.tock"))
            ticks += 1
            return producer.stats()["topics"].get("load.item", 0) == 0
        wait_until(trimmed, 30, interval=0.3, what="retention to trim the round")

    # LMDB's high-water mark climbs over the first rounds (the pages of a
    # round, the free list, the pages of the trimming transactions)
    for _ in range(3):
        one_round()
    warm_used = producer.stats()["store"]["used_bytes"]
    warm_file = os.path.getsize(data_file)
    warm_sent = sent
    for _ in range(6):
        one_round()
    stats = producer.stats()
    used, size = stats["store"]["used_bytes"], os.path.getsize(data_file)
    written = (sent - warm_sent) * 1100
    print("sent=%d warm_used=%d used=%d warm_file=%d file=%d trimmed=%d"
          % (sent, warm_used, used, warm_file, size, stats["log"]["trimmed"]))
    assert stats["log"]["trimmed"] >= sent
    # far more was written after the warm-up than the file grew by: freed
    # pages were reused
    assert used - warm_used < written / 3, (used, warm_used, written)
    assert size - warm_file < written / 3
