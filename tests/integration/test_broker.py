"""zhub-broker over the wire, driven by tests/integration/zhub_bus.py (a
client written from proto/PROTOCOL.md). Each test starts a real broker on
a free port with short deadlines and backoff so that retries happen in
well under a second."""
import time

import pytest
import zmq

from zhub_bus import Bus, envelope, pack

FAST = {
    "ZHUB_BROKER_ACK_DEADLINE": "1s",
    "ZHUB_BROKER_BACKOFF": "200ms,400ms",
    "ZHUB_BROKER_MAX_DELIVERIES": "5",
}


@pytest.fixture
def broker(hub):
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


def test_publish_is_confirmed_then_delivered_and_acked_once(bus):
    producer, consumer = bus("producer"), bus("consumer")
    reply = producer.publish(envelope("m-1", "contact.synced", subject="contact:1",
                                      data={"hubspot_contact_id": 501}))
    assert reply["cmd"] == "PUBACK" and reply["offset"] == 1 and reply["duplicate"] is False

    assert consumer.join("activity-log", ["contact.>"], credit=4)["cmd"] == "JOINED"
    delivery = consumer.recv(5)
    assert delivery is not None
    assert delivery["group"] == "activity-log" and delivery["offset"] == 1
    assert delivery["attempt"] == 1
    assert delivery["message"]["id"] == "m-1"
    assert delivery["message"]["data"] == {"hubspot_contact_id": 501}
    consumer.ack(delivery["tag"])

    # acked: not delivered again, even after the ack deadline (1 s)
    assert consumer.recv(1.6) is None
    group = producer.stats()["groups"]["activity-log"]
    assert group["acked"] == 1 and group["in_flight"] == 0 and group["lag"] == 0


def test_duplicate_id_is_acknowledged_stored_and_delivered_once(bus):
    producer, consumer = bus("producer"), bus("consumer")
    first = producer.publish(envelope("hubspot:evt-77", "webhook.hubspot.contact.creation"))
    again = producer.publish(envelope("hubspot:evt-77", "webhook.hubspot.contact.creation"))
    assert first["cmd"] == "PUBACK" and first["duplicate"] is False
    assert again["cmd"] == "PUBACK" and again["duplicate"] is True
    assert again["offset"] == first["offset"]
    # a duplicate inside one pipelined batch as well
    replies = producer.publish_many([envelope("x-1", "webhook.hubspot.contact.creation"),
                                     envelope("x-1", "webhook.hubspot.contact.creation")])
    assert [r["duplicate"] for r in replies] == [False, True]
    assert replies[0]["offset"] == replies[1]["offset"]

    consumer.join("contact-sync", ["webhook.hubspot.>"], credit=10)
    ids = []
    while True:
        delivery = consumer.recv(1.0)
        if delivery is None:
            break
        ids.append(delivery["message"]["id"])
        consumer.ack(delivery["tag"])
    assert ids == ["hubspot:evt-77", "x-1"]
    stats = producer.stats()
    assert stats["log"]["size"] == 2
    assert stats["topics"] == {"webhook.hubspot.contact.creation": 2}


def test_same_subject_is_delivered_in_order_never_twice_at_once_across_two_consumers(bus):
    producer = bus("producer")
    consumers = [bus("c1"), bus("c2")]
    for consumer in consumers:
        consumer.join("deal-sync", ["conversation.stage_changed"], credit=4)
    published = {"contact:a": [], "contact:b": [], "contact:c": []}
    msgs = []
    for i in range(30):
        subject = "contact:" + "abc"[i % 3]
        msgs.append(envelope("s-%d" % i, "conversation.stage_changed", subject=subject,
                             data={"n": i}))
        published[subject].append(i)
    assert all(r["cmd"] == "PUBACK" for r in producer.publish_many(msgs))

    received = {s: [] for s in published}
    in_flight = {}           # subject -> (consumer index, tag)
    got_by = [0, 0]
    deadline = time.monotonic() + 15
    while sum(len(v) for v in received.values()) < 30 and time.monotonic() < deadline:
        for index, consumer in enumerate(consumers):
            delivery = consumer.recv(0.05)
            if delivery is None:
                continue
            message = delivery["message"]
            subject = message["subject"]
            assert subject not in in_flight, "two deliveries of %s at once" % subject
            in_flight[subject] = (index, delivery["tag"])
            received[subject].append(message["data"]["n"])
            got_by[index] += 1
        # ack half of what is in flight each round, so both consumers stay busy
        for subject in list(in_flight)[::2]:
            index, tag = in_flight.pop(subject)
            consumers[index].ack(tag)
        if not any(len(received[s]) < len(published[s]) for s in published):
            break
        if in_flight and all(len(received[s]) == len(published[s]) or s in in_flight
                             for s in published):
            for subject in list(in_flight):
                index, tag = in_flight.pop(subject)
                consumers[index].ack(tag)
    assert received == published
    assert got_by[0] > 0 and got_by[1] > 0, "both members should get work: %r" % got_by


def test_nack_with_delay_redelivers_after_the_delay(bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("scheduler", ["tour.requested"], credit=1, ack_deadline_ms=30000)
    producer.publish(envelope("t-1", "tour.requested", subject="contact:9"))
    first = consumer.recv(5)
    assert first["attempt"] == 1
    nacked_at = time.monotonic()
    consumer.nack(first["tag"], delay_ms=1500, code=429, reason="Retry-After: 1.5")
    again = consumer.recv(5)
    waited = time.monotonic() - nacked_at
    assert again is not None and again["message"]["id"] == "t-1"
    assert again["attempt"] == 2 and again["tag"] != first["tag"]
    assert 1.4 <= waited <= 4.0, waited
    consumer.ack(again["tag"])


def test_max_deliveries_dead_letters_with_its_history(bus):
    producer, consumer, dead = bus("producer"), bus("consumer"), bus("dead-letter")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1, max_deliveries=3,
                  backoff_ms=[100])
    dead.join("dead-letter", ["dlq.>"], credit=10)
    original = envelope("bird:evt-1", "webhook.bird.contact.updated", subject="contact:b1",
                        data={"phone": "+15550001"}, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    producer.publish(original)
    for attempt in (1, 2, 3):
        delivery = consumer.recv(5)
        assert delivery is not None and delivery["attempt"] == attempt
        consumer.nack(delivery["tag"], code=500 + attempt, reason="HubSpot said %d" % (500 + attempt))
    letter = dead.recv(5)
    assert letter is not None
    message = letter["message"]
    assert message["type"] == "dlq.contact-sync"
    assert message["id"] == "dlq:contact-sync:bird:evt-1"
    assert message["subject"] == "contact:b1"
    assert message["source"] == "zhub/broker"
    assert message["traceparent"] == original["traceparent"]
    data = message["data"]
    assert data["group"] == "contact-sync" and data["cause"] == "max_deliveries"
    assert data["reason_code"] == 503
    assert data["message"] == original
    assert [a["code"] for a in data["attempts"]] == [501, 502, 503]
    assert data["attempts"][2]["reason"] == "HubSpot said 503"
    assert all(a["time"].endswith("Z") and "T" in a["time"] for a in data["attempts"])
    dead.ack(letter["tag"])
    # the original is done for its group
    assert consumer.recv(1.0) is None
    assert producer.stats()["groups"]["contact-sync"]["dead_letters"] == 1


def test_deferred_nacks_never_use_up_the_attempts(bus):
    """A consumer whose peer is down defers (NACK defer): the message comes
    back after the delay with the same attempt number, however often, and
    is never dead-lettered for it; a real failure afterwards counts."""
    producer, consumer, dead = bus("producer"), bus("consumer"), bus("dead-letter")
    consumer.join("contact-sync", ["webhook.bird.>"], credit=1, max_deliveries=2,
                  backoff_ms=[100])
    dead.join("dead-letter", ["dlq.>"], credit=10)
    producer.publish(envelope("bird:evt-d", "webhook.bird.contact.updated", subject="contact:d"))
    for _ in range(5):   # more than max_deliveries
        delivery = consumer.recv(5)
        assert delivery is not None and delivery["attempt"] == 1
        consumer.nack(delivery["tag"], delay_ms=50, code=503, reason="circuit open", defer=True)
    delivery = consumer.recv(5)
    assert delivery["attempt"] == 1
    consumer.nack(delivery["tag"], code=500, reason="HubSpot said 500")
    delivery = consumer.recv(5)
    assert delivery["attempt"] == 2
    assert dead.recv(0.5) is None
    consumer.nack(delivery["tag"], code=500, reason="HubSpot said 500 again")
    letter = dead.recv(5)
    assert letter is not None
    attempts = letter["message"]["data"]["attempts"]
    assert [a["code"] for a in attempts][-2:] == [500, 500]
    assert sum(1 for a in attempts if a["reason"] == "circuit open") >= 1


def test_terminal_nack_dead_letters_at_once(bus):
    producer, consumer, dead = bus("producer"), bus("consumer"), bus("dead-letter")
    consumer.join("deal-sync", ["qualification.completed"], credit=1)
    dead.join("dead-letter", ["dlq.>"], credit=10)
    producer.publish(envelope("q-1", "qualification.completed", subject="contact:q"))
    delivery = consumer.recv(5)
    consumer.nack(delivery["tag"], terminal=True, code=422, reason="invalid score")
    letter = dead.recv(5)
    assert letter is not None
    data = letter["message"]["data"]
    assert data["cause"] == "terminal" and data["reason_code"] == 422
    assert [(a["code"], a["reason"]) for a in data["attempts"]] == [(422, "invalid score")]
    assert consumer.recv(0.8) is None


def test_ack_deadline_redelivers_when_a_consumer_vanishes(hub, bus):
    producer, vanishing = bus("producer"), Bus(hub.env["ZHUB_BROKER"], "vanishing")
    vanishing.join("activity-log", ["conversation.message"], credit=1, ack_deadline_ms=1000,
                   backoff_ms=[200])
    producer.publish(envelope("c-1", "conversation.message", subject="conversation:1"))
    first = vanishing.recv(5)
    assert first is not None
    delivered_at = time.monotonic()
    vanishing.close()                     # gone without ack or LEAVE

    survivor = bus("survivor")
    survivor.join("activity-log", ["conversation.message"], credit=1)
    again = survivor.recv(5)
    assert again is not None and again["message"]["id"] == "c-1"
    assert again["attempt"] == 2
    assert time.monotonic() - delivered_at >= 1.0
    survivor.ack(again["tag"])
    assert "ack_deadline" in hub.procs[0].log_text()


def test_leave_hands_in_flight_messages_back_at_once(bus):
    producer, leaving, staying = bus("producer"), bus("leaving"), bus("staying")
    leaving.join("g", ["a.b"], credit=1, ack_deadline_ms=30000)
    producer.publish(envelope("l-1", "a.b"))
    assert leaving.recv(5) is not None
    staying.join("g", ["a.b"], credit=1)
    leaving.leave("g")
    # at once: well before the 30 s ack deadline could have expired it
    again = staying.recv(5)
    assert again is not None and again["message"]["id"] == "l-1"
    assert again["attempt"] == 1            # handing back is not a failure


def test_message_confirmed_before_sigkill_is_delivered_after_restart(hub, broker, bus):
    producer = bus("producer")
    consumer = bus("consumer")
    consumer.join("contact-sync", ["contact.>"], credit=10)
    for i in range(3):
        assert producer.publish(envelope("k-%d" % i, "contact.synced"))["cmd"] == "PUBACK"
    done = consumer.recv(5)
    assert done["message"]["id"] == "k-0"
    consumer.ack(done["tag"])
    assert consumer.ping() is not None      # the ack has reached the broker
    time.sleep(0.1)
    assert producer.publish(envelope("k-3", "contact.synced"))["cmd"] == "PUBACK"

    broker.kill9()
    broker.start()
    # the restarted broker does not know the member: its PONG does not list
    # the group, which is the client's cue to join again
    pong = consumer.ping(5)
    assert pong is not None and "contact-sync" not in pong.get("topics", [])
    consumer.inbox.clear()
    consumer.join("contact-sync", ["contact.>"], credit=10)
    ids = []
    while True:
        delivery = consumer.recv(1.5)
        if delivery is None:
            break
        ids.append(delivery["message"]["id"])
        consumer.ack(delivery["tag"])
    # k-0 was acked before the crash: never again; everything confirmed: delivered
    assert sorted(ids) == ["k-1", "k-2", "k-3"]


def test_delayed_retry_survives_a_broker_crash_and_fires_on_time(hub, broker, bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("scheduler", ["tour.requested"], credit=1)
    producer.publish(envelope("r-1", "tour.requested", subject="contact:r"))
    first = consumer.recv(5)
    nacked_at = time.monotonic()
    consumer.nack(first["tag"], delay_ms=2500, code=503, reason="Google down")
    assert consumer.ping() is not None
    broker.kill9()
    broker.start()
    consumer.inbox.clear()
    consumer.join("scheduler", ["tour.requested"], credit=1)
    again = consumer.recv(6)
    waited = time.monotonic() - nacked_at
    assert again is not None and again["message"]["id"] == "r-1"
    assert again["attempt"] == 2
    assert waited >= 2.3, "the retry fired early after the restart: %.2fs" % waited
    consumer.ack(again["tag"])


def test_stale_tag_ack_is_refused_with_409(bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("g", ["x.y"], credit=1)
    producer.publish(envelope("st-1", "x.y"))
    first = consumer.recv(5)
    consumer.nack(first["tag"], delay_ms=0, reason="try again")
    second = consumer.recv(5)
    assert second["tag"] != first["tag"] and second["attempt"] == 2
    consumer.ack(first["tag"])             # late ack for the earlier delivery
    error = consumer.error(5, code=409)
    assert error is not None and str(first["tag"]) in error["reason"]
    consumer.ack(second["tag"])
    assert consumer.error(0.5) is None
    assert consumer.recv(1.0) is None


def test_malformed_publish_gets_400_and_nothing_is_stored(bus):
    producer = bus("producer")
    not_msgpack = producer.publish(b"\xc1garbage")
    assert not_msgpack["cmd"] == "ERROR" and not_msgpack["code"] == 400
    no_id = producer.publish({"specversion": "1.0", "source": "x", "type": "a.b", "data": {}})
    assert no_id["cmd"] == "ERROR" and no_id["code"] == 400 and "id" in no_id["reason"]
    bad_topic = producer.publish(envelope("b-1", "no spaces allowed"))
    assert bad_topic["cmd"] == "ERROR" and bad_topic["code"] == 400
    data_not_map = producer.publish(dict(envelope("b-2", "a.b"), data=[1, 2]))
    assert data_not_map["cmd"] == "ERROR" and data_not_map["code"] == 400
    # a frame that is not a command at all
    producer.send_raw(b"\x93\x01\x02\x03")
    assert producer.error(5, code=400) is not None
    assert producer.stats()["log"]["size"] == 0


def test_oversized_message_gets_413(hub):
    hub.start("broker", extra_env={"ZHUB_BROKER_MAX_MESSAGE": "2048"})
    producer = Bus(hub.env["ZHUB_BROKER"], "producer")
    try:
        reply = producer.publish(envelope("big-1", "a.b", data={"blob": "x" * 4096}))
        assert reply["cmd"] == "ERROR" and reply["code"] == 413
        assert producer.publish(envelope("small-1", "a.b"))["cmd"] == "PUBACK"
    finally:
        producer.close()


def test_hello_with_an_unknown_version_gets_426(bus):
    client = bus("future")
    client.send({"cmd": "HELLO", "v": 99, "name": "future"})
    error = client.error(5)
    assert error["code"] == 426


def test_start_latest_skips_the_backlog(bus):
    producer, consumer = bus("producer"), bus("consumer")
    producer.publish(envelope("old-1", "n.m"))
    consumer.join("late", ["n.m"], credit=5, start="latest")
    producer.publish(envelope("new-1", "n.m"))
    delivery = consumer.recv(5)
    assert delivery["message"]["id"] == "new-1"
    consumer.ack(delivery["tag"])
    assert consumer.recv(0.8) is None


def test_credit_bounds_in_flight_and_credit_command_widens_it(bus):
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("g", ["p.q"], credit=1, ack_deadline_ms=30000)
    producer.publish_many([envelope("cr-%d" % i, "p.q") for i in range(3)])
    first = consumer.recv(5)
    assert first is not None
    assert consumer.recv(0.5) is None       # credit 1: nothing more until ack
    consumer.credit("g", 2)
    got = [consumer.recv(5), consumer.recv(5)]
    assert all(g is not None for g in got)
    assert {first["message"]["id"]} | {g["message"]["id"] for g in got} == {"cr-0", "cr-1", "cr-2"}


def test_sigterm_stops_the_broker_with_exit_code_0(hub, broker, bus):
    producer = bus("producer")
    assert producer.publish(envelope("z-1", "a.b"))["cmd"] == "PUBACK"
    assert broker.stop() == 0


def test_full_store_answers_503_keeps_serving_and_loses_nothing_confirmed(hub):
    broker = hub.start("broker", extra_env=dict(FAST, ZHUB_BROKER_MAX_MAP_SIZE=str(1 << 20)))
    producer = Bus(hub.env["ZHUB_BROKER"], "producer")
    consumer = Bus(hub.env["ZHUB_BROKER"], "consumer")
    try:
        consumer.join("g", ["fill.x"], credit=1, ack_deadline_ms=30000)
        confirmed, refused = [], 0
        for i in range(300):
            reply = producer.publish(envelope("f-%d" % i, "fill.x", data={"pad": "x" * 20000}))
            if reply["cmd"] == "PUBACK":
                confirmed.append("f-%d" % i)
            else:
                assert reply["code"] == 503, reply
                refused += 1
                if refused == 3:
                    break
        assert refused == 3 and len(confirmed) >= 2
        # still serving: pings, deliveries from what is stored
        assert producer.ping() is not None
        first = consumer.recv(5)
        assert first["message"]["id"] == confirmed[0]
        consumer.ack(first["tag"])
        assert consumer.recv(5)["message"]["id"] == confirmed[1]
        assert broker.stop() == 0
        assert "commit_failed" in broker.log_text()

        # with room again, everything that was confirmed is still there
        broker.env.pop("ZHUB_BROKER_MAX_MAP_SIZE")
        broker.start()
        consumer.inbox.clear()
        consumer.join("g", ["fill.x"], credit=50)
        seen = set()
        while True:
            delivery = consumer.recv(1.5)
            if delivery is None:
                break
            seen.add(delivery["message"]["id"])
            consumer.ack(delivery["tag"])
        # the first ack may or may not have been stored before the store filled
        assert set(confirmed[1:]) <= seen
    finally:
        producer.close()
        consumer.close()


def _pubacks_by_seq(client, seqs, timeout=10.0):
    """Reads frames until every seq in seqs is confirmed; returns the
    frames that confirmed them (PUBACK or PUBACKS), in arrival order."""
    waiting, frames = set(seqs), []
    deadline = time.monotonic() + timeout
    while waiting:
        frame = client.expect(lambda f: f["cmd"] in ("PUBACK", "PUBACKS", "ERROR"),
                              deadline - time.monotonic())
        assert frame is not None, "no confirmation for %s" % sorted(waiting)
        assert frame["cmd"] != "ERROR", frame
        frames.append(frame)
        covered = ([frame["seq"]] if frame["cmd"] == "PUBACK"
                   else range(frame["seq"], frame["seq"] + len(frame["offsets"])))
        for seq in covered:
            assert seq in waiting, "seq %d confirmed twice or never sent" % seq
            waiting.discard(seq)
    return frames


def test_a_client_that_asks_gets_pubacks_batched_and_one_that_does_not_gets_one_each(bus):
    """PROTOCOL.md 5.2: HELLO batch_acks makes the broker confirm a run of
    publishes in one PUBACKS frame; a client that does not ask (every
    client written before it) still gets one PUBACK per publish."""
    old = bus("old-client")           # zhub_bus's HELLO has no batch_acks
    new = Bus(old.sock.getsockopt_string(zmq.LAST_ENDPOINT), "new-client", hello=False)
    try:
        new.send({"cmd": "HELLO", "v": 1, "name": "new-client", "batch_acks": True})
        welcome = new.expect(lambda f: f["cmd"] in ("WELCOME", "ERROR"), 5.0)
        assert welcome["cmd"] == "WELCOME" and welcome.get("batch_acks") is True

        def publish_all(client, prefix, count):
            seqs = []
            for i in range(count):
                seq = client.next_seq()
                seqs.append(seq)
                client.send({"cmd": "PUBLISH", "seq": seq,
                             "msg": pack(envelope("%s-%d" % (prefix, i), "batch.test"))})
            return seqs

        # the old-style client: exactly one PUBACK per publish, in order
        seqs = publish_all(old, "old", 40)
        frames = _pubacks_by_seq(old, seqs)
        assert [f["cmd"] for f in frames] == ["PUBACK"] * 40
        assert [f["seq"] for f in frames] == seqs
        old_offsets = [f["offset"] for f in frames]

        # the new one: PUBACKS only, covering its seqs in publish order,
        # each with the offset it was stored at
        seqs = publish_all(new, "new", 40)
        frames = _pubacks_by_seq(new, seqs)
        assert {f["cmd"] for f in frames} == {"PUBACKS"}
        confirmed = [(f["seq"] + i, offset) for f in frames for i, offset in enumerate(f["offsets"])]
        assert [seq for seq, _ in confirmed] == seqs
        new_offsets = [offset for _, offset in confirmed]
        assert len(set(new_offsets + old_offsets)) == 80 and min(new_offsets) > max(old_offsets)
        assert all("duplicates" not in f for f in frames)

        # a repeat of a stored id: confirmed as a duplicate, by position
        seq = new.next_seq()
        new.send({"cmd": "PUBLISH", "seq": seq, "msg": pack(envelope("new-7", "batch.test"))})
        (frame,) = _pubacks_by_seq(new, [seq])
        assert frame["cmd"] == "PUBACKS" and frame["offsets"] == [new_offsets[7]]
        assert frame["duplicates"] == [0]

        # and what they confirmed is what a consumer reads at those offsets
        consumer = bus("consumer")
        consumer.join("batch-readers", ["batch.>"], credit=100)
        got = {}
        while len(got) < 80:
            delivery = consumer.recv(5)
            assert delivery is not None
            got[delivery["offset"]] = delivery["message"]["id"]
            consumer.ack(delivery["tag"])
        assert [got[o] for o in old_offsets] == ["old-%d" % i for i in range(40)]
        assert [got[o] for o in new_offsets] == ["new-%d" % i for i in range(40)]
    finally:
        new.close()
