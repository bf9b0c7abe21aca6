"""The Python client (clients/python, package zhub) against a real
zhub-broker: each behaviour of proto/PROTOCOL.md a service relies on, seen
from what the broker stored and delivered (its STATS, the messages a
second client receives). Nothing here waits a fixed time: every wait is
for a condition, with a bound."""
import threading
import time

import msgpack
import pytest
import zmq

from harness import wait_until
from zhub_bus import Bus

import zhub
from zhub import Envelope, InvalidMessage, NotConfirmed, Rejected


def env(id, type="contact.synced", subject="contact:1", **kw):
    return Envelope(type=type, id=id, source="pytest", subject=subject, **kw)


def receive(c, timeout=10.0):
    d = c.receive(timeout)
    assert d is not None, "no delivery within %.0fs" % timeout
    return d


def group_stats(c, group):
    return c.stats()["groups"][group]


def test_publish_is_confirmed_with_its_offset_and_delivered_as_sent(client):
    producer, consumer = client("producer"), client("consumer")
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    ack = producer.publish(env("p-1", data={"hubspot_contact_id": 501, "big": 2 ** 63 + 1,
                                            "text": "ñandú", "raw": b"\x00\xff"},
                               traceparent=trace))
    assert ack == zhub.PubAck(offset=1, duplicate=False)
    consumer.join("activity-log", ["contact.>"], credit=4)
    d = receive(consumer)
    assert (d.group, d.offset, d.attempt) == ("activity-log", 1, 1)
    assert d.envelope.id == "p-1" and d.envelope.subject == "contact:1"
    assert d.envelope.data == {"hubspot_contact_id": 501, "big": 2 ** 63 + 1, "text": "ñandú",
                               "raw": b"\x00\xff"}
    assert d.envelope.traceparent.startswith("00-0af7")
    assert producer.broker_version == 1        # the WELCOME to our HELLO


def test_republishing_an_id_is_confirmed_as_duplicate_and_stored_once(client):
    producer, consumer = client("producer"), client("consumer")
    first = producer.publish(env("hubspot:evt-77"))
    again = producer.publish(env("hubspot:evt-77", data={"other": "content"}))
    assert not first.duplicate and again == zhub.PubAck(offset=first.offset, duplicate=True)
    consumer.join("g", ["contact.>"], credit=4)
    d = receive(consumer)
    assert d.envelope.id == "hubspot:evt-77" and d.envelope.data == {}
    d.ack()
    consumer.ping()
    stats = consumer.stats()
    assert stats["topics"]["contact.synced"] == 1 and stats["broker"]["duplicates"] == 1
    assert stats["groups"]["g"]["lag"] == 0


def test_publish_many_is_pipelined_and_answers_each_in_order(client):
    producer = client("producer")
    results = producer.publish_many([env("b-%d" % i) for i in range(50)]
                                    + [env("b-3"), env("bad id", type="not a topic")])
    assert [r.offset for r in results[:50]] == list(range(1, 51))
    assert results[50] == zhub.PubAck(offset=4, duplicate=True)
    assert isinstance(results[51], InvalidMessage)
    assert producer.stats()["log"]["last"] == 50


@pytest.mark.parametrize("bad, rule", [
    (dict(type="contact..synced"), "type must be a dotted topic"),
    (dict(type="contact.*"), "type must be a dotted topic"),
    (dict(id=""), "id must be 1..256 bytes"),
    (dict(id="x" * 257), "id must be 1..256 bytes"),
    (dict(source="s\0urce"), "source must not hold a NUL byte"),
    (dict(subject="s" * 257), "subject must be 0..256 bytes"),
    (dict(data=[1, 2]), "data must be a map"),
    (dict(data={"when": time}), "cannot travel in a message"),
    (dict(data={"n": 2 ** 64}), "does not fit 64 bits"),
    (dict(data={1: "x"}), "keys must be strings"),
    (dict(deliverat=-1), "deliverat must be unix ms"),
])
def test_an_invalid_envelope_is_refused_before_sending(client, bad, rule):
    producer = client("producer")
    fields = dict(type="contact.synced", id="x-1", source="pytest")
    fields.update(bad)
    with pytest.raises(InvalidMessage, match=rule):
        producer.publish(Envelope(**fields))
    broker = producer.stats()["broker"]
    assert broker["published"] == 0 and broker["rejected"] == 0   # nothing reached it


def test_limits_of_the_envelope_are_held_before_sending(client):
    producer = client("producer", max_message=4096)
    deep = {}
    for _ in range(29):                     # data at level 2: 31 levels in all
        deep = {"d": deep or {"leaf": 1}}
    with pytest.raises(InvalidMessage, match="deeper than 30 levels"):
        producer.publish(env("deep", data=deep))
    with pytest.raises(InvalidMessage, match="over the limit of 4096"):
        producer.publish(env("big", data={"blob": "x" * 5000}))
    with pytest.raises(InvalidMessage, match="more than 366 days ahead"):
        producer.publish(env("far", deliverat=int(time.time() * 1000) + 367 * 86400 * 1000))
    at_limit = {}
    for _ in range(28):                     # 30 levels: accepted
        at_limit = {"d": at_limit or {"leaf": 1}}
    assert producer.publish(env("deep-ok", data=at_limit)).offset == 1
    assert producer.stats()["broker"]["rejected"] == 0


def test_an_envelope_over_the_brokers_limit_is_rejected_by_the_broker(hub):
    hub.start("broker", extra_env={"ZHUB_BROKER_MAX_MESSAGE": "4096"})
    with zhub.Client(hub.env["ZHUB_BROKER"], "producer", max_message=2 * 1024 * 1024) as c:
        with pytest.raises(Rejected) as refused:
            c.publish(env("too-big", data={"blob": "x" * 8000}))
        assert refused.value.code == 413
        stats = c.stats()
        assert stats["broker"]["rejected"] == 1 and stats["log"]["size"] == 0


def test_credit_bounds_the_deliveries_in_flight_and_credit_widens_it(client):
    producer, consumer = client("producer"), client("consumer")
    for i in range(5):
        producer.publish(env("c-%d" % i, subject="contact:%d" % i))
    consumer.join("g", ["contact.>"], credit=2)
    held = [receive(consumer), receive(consumer)]
    wait_until(lambda: group_stats(producer, "g")["in_flight"] == 2, what="2 in flight")
    members = group_stats(producer, "g")["members"]
    assert [(m["name"], m["credit"], m["in_flight"]) for m in members] == \
        [(consumer.routing_id, 2, 2)]
    assert consumer.pending() == 0          # nothing beyond the window came

    consumer.credit("g", 1)                 # the window widens by one
    held.append(receive(consumer))
    assert group_stats(producer, "g")["members"][0]["credit"] == 3
    held[0].ack()                           # a freed slot: the next one comes
    held.append(receive(consumer))
    assert sorted(d.envelope.id for d in held) == ["c-0", "c-1", "c-2", "c-3"]


def test_ack_is_stored_and_the_message_is_done_for_the_group(client):
    producer, consumer = client("producer"), client("consumer")
    producer.publish(env("a-1"))
    consumer.join("g", ["contact.>"], credit=1)
    assert receive(consumer).ack() is True
    assert consumer.ping() == ["g"]         # the PONG: the ACK is stored
    g = group_stats(producer, "g")
    assert (g["acked"], g["in_flight"], g["lag"], g["floor"]) == (1, 0, 0, 2)


def test_nack_with_delay_is_redelivered_later_as_the_next_attempt(client):
    producer, consumer = client("producer"), client("consumer")
    producer.publish(env("n-1"))
    # the group's own backoff is an hour: only the NACK's delay brings it back
    consumer.join("g", ["contact.>"], credit=1, backoff_ms=[3600000])
    first = receive(consumer)
    assert first.nack(delay_ms=3000, code=503, reason="HubSpot 503, Retry-After: 3") is True
    consumer.ping()
    # held for its delay: waiting, not in flight (the delay is 3 s, the
    # STATS round trip a few ms)
    g = group_stats(producer, "g")
    assert (g["waiting_retry"], g["in_flight"]) == (1, 0)
    again = receive(consumer, 15)
    assert (again.envelope.id, again.offset, again.attempt) == ("n-1", first.offset, 2)
    assert again.tag != first.tag
    again.ack()


def test_terminal_nack_dead_letters_the_message_on_dlq_of_the_group(client):
    producer, consumer, keeper = client("producer"), client("consumer"), client("dead-letter")
    producer.publish(env("t-1", subject="contact:9", data={"field": "value"}))
    consumer.join("contact-sync", ["contact.>"], credit=1)
    keeper.join("dead-letter", ["dlq.>"], credit=1)
    d = receive(consumer)
    d.nack(terminal=True, code=422, reason="HubSpot refused the e-mail " + "é" * 3000)
    letter = receive(keeper)
    assert letter.envelope.type == "dlq.contact-sync"
    assert letter.envelope.id == "dlq:contact-sync:t-1" and letter.envelope.subject == "contact:9"
    data = letter.envelope.data
    assert (data["group"], data["cause"], data["reason_code"]) == ("contact-sync", "terminal", 422)
    assert data["message"]["id"] == "t-1" and data["message"]["data"] == {"field": "value"}
    assert data["attempts"][-1]["reason"].startswith("HubSpot refused the e-mail é")
    typed = letter.event()                  # the catalogue's dlq.<group>, read strictly
    assert isinstance(typed, zhub.events.Dlq) and typed.cause == "terminal"
    # and it is not delivered to its own group again
    consumer.ping()
    assert group_stats(producer, "contact-sync")["dead_letters"] == 1
    assert consumer.receive(0) is None


def test_defer_redelivers_without_using_up_an_attempt(client):
    producer, consumer = client("producer"), client("consumer")
    producer.publish(env("d-1"))
    consumer.join("g", ["contact.>"], credit=1, max_deliveries=2)
    for _ in range(3):                      # more than max_deliveries
        d = receive(consumer)
        assert d.attempt == 1
        d.defer(delay_ms=0, code=503, reason="circuit open")
    d = receive(consumer)
    assert d.attempt == 1 and d.envelope.id == "d-1"
    d.ack()
    consumer.ping()
    assert group_stats(producer, "g")["dead_letters"] == 0


def test_a_late_ack_of_a_stale_tag_is_refused_with_409_and_changes_nothing(client):
    producer, consumer = client("producer"), client("consumer")
    producer.publish(env("s-1"))
    consumer.join("g", ["contact.>"], credit=1)
    first = receive(consumer)
    first.nack(delay_ms=0)
    second = receive(consumer)
    first.ack()                             # stale: fenced off
    consumer.ping()
    assert [code for code, _ in consumer.recent_errors] == [409]
    g = group_stats(producer, "g")
    assert (g["acked"], g["in_flight"]) == (0, 1)
    second.ack()


def test_heartbeats_keep_a_busy_member_while_a_silent_one_is_forgotten(hub, broker, client):
    watcher = client("watcher")
    busy = client("busy")                   # its thread pings while the test does nothing with it
    busy.join("g", ["contact.>"], credit=1)
    silent = Bus(hub.env["ZHUB_BROKER"], "silent")     # sends nothing after its JOIN
    try:
        silent.join("g", ["contact.>"], credit=1)
        names = lambda: [m["name"] for m in group_stats(watcher, "g")["members"]]  # noqa: E731
        assert sorted(names()) == sorted([busy.routing_id, silent.routing_id])
        # the broker forgets a member silent for 10 heartbeats (10 s)
        wait_until(lambda: silent.routing_id not in names(), timeout=40, interval=0.5,
                   what="the broker to forget the silent member")
        assert names() == [busy.routing_id]
        assert busy.ping() == ["g"]
    finally:
        silent.close()


def test_a_member_the_broker_forgot_joins_again_on_the_next_pong(hub, broker, client):
    producer = client("producer")
    consumer = client("consumer", heartbeat_thread=False)
    consumer.join("g", ["contact.>"], credit=1)
    members = lambda: [m["name"] for m in group_stats(producer, "g")["members"]]  # noqa: E731
    # no thread and no calls: the broker forgets it after 10 silent heartbeats
    wait_until(lambda: members() == [], timeout=40, interval=0.5, what="the member forgotten")
    producer.publish(env("f-1"))
    d = receive(consumer)                   # its PING's PONG lacks "g": it joins again
    assert d.envelope.id == "f-1"
    assert members() == [consumer.routing_id]


def test_after_a_broker_restart_the_client_reconnects_joins_again_and_consumes(hub, broker,
                                                                              client):
    producer, consumer = client("producer"), client("consumer")
    consumer.join("g", ["contact.>"], credit=4, ack_deadline_ms=60000)
    consumer.credit("g", 2)                 # a window of 6, kept across the restart
    producer.publish(env("r-1", subject="contact:1"))
    receive(consumer).ack()
    consumer.ping()                         # r-1's ACK is stored
    producer.publish(env("r-2", subject="contact:2"))
    in_flight = receive(consumer)           # not acked before the crash
    assert in_flight.envelope.id == "r-2"

    broker.kill9()
    with pytest.raises(NotConfirmed):       # nobody there: not confirmed, nothing raised else
        producer.publish(env("r-3", subject="contact:3"), timeout=0.5)
    done = {}
    publisher = threading.Thread(target=lambda: done.setdefault(
        "ack", producer.publish(env("r-3", subject="contact:3"), timeout=60)))
    publisher.start()                       # publishes again until the broker is back
    broker.start()
    publisher.join(70)
    assert done["ack"].offset >= 3          # r-3 stored once the broker was back

    seen = []
    while sorted(set(seen)) != ["r-2", "r-3"]:
        d = receive(consumer, 20)           # consumption resumes after the re-join
        seen.append(d.envelope.id)
        d.ack()
    assert "r-1" not in seen                # acked before the crash: never again
    in_flight.ack()                         # its tag is from before the restart: 409, ignored
    assert consumer.ping() == ["g"]
    assert 409 in [code for code, _ in consumer.recent_errors]
    g = group_stats(producer, "g")
    assert g["lag"] == 0 and g["in_flight"] == 0
    assert [(m["name"], m["credit"]) for m in g["members"]] == [(consumer.routing_id, 6)]


def test_a_delayed_publish_is_held_then_delivered_with_its_deliverat(client):
    producer, consumer = client("producer"), client("consumer")
    consumer.join("scheduler", ["tour.reminder"], credit=1)
    due = int(time.time() * 1000) + 3000
    ack = producer.publish(Envelope(type="tour.reminder", id="rem-1", source="pytest",
                                    subject="contact:1", data={"booking_id": "bk1"},
                                    deliverat=due))
    assert ack == zhub.PubAck(offset=0, duplicate=False)     # held: no offset yet
    stats = producer.stats()
    assert stats["broker"]["delayed"] == 1 and stats["log"]["size"] == 0
    assert producer.publish(Envelope(type="tour.reminder", id="rem-1", source="pytest",
                                     subject="contact:1", deliverat=due)) == \
        zhub.PubAck(offset=0, duplicate=True)
    d = receive(consumer, 20)
    assert d.envelope.id == "rem-1" and d.envelope.deliverat == due and d.offset == 1
    assert producer.stats()["broker"]["delayed"] == 0


def test_join_settings_are_checked_before_sending_and_used_when_they_create_the_group(client):
    consumer = client("consumer")
    for bad, rule in ((dict(topics=["a.>.b"]), "subscription patterns"),
                      (dict(topics=[]), "subscription patterns"),
                      (dict(ack_deadline_ms=50), "at least 100"),
                      (dict(credit=0), "credit"),
                      (dict(backoff_ms=[1] * 17), "at most 16"),
                      (dict(start="middle"), "start"),
                      (dict(group="a.*"), "group")):
        args = dict(group="g", topics=["contact.>"])
        args.update(bad)
        with pytest.raises(InvalidMessage, match=rule):
            consumer.join(args.pop("group"), args.pop("topics"), **args)
    consumer.join("g", ["contact.>"], credit=3, max_deliveries=7, ack_deadline_ms=1500,
                  backoff_ms=[100, 200], start="latest")
    g = group_stats(consumer, "g")
    assert (g["max_deliveries"], g["ack_deadline_ms"], g["backoff_ms"]) == (7, 1500, [100, 200])
    assert g["patterns"] == ["contact.>"]


def test_close_leaves_its_groups_after_the_acks_are_stored(client, hub):
    producer = client("producer")
    producer.publish(env("l-1"))
    producer.publish(env("l-2", subject="contact:2"))
    consumer = zhub.Client(hub.env["ZHUB_BROKER"], "consumer")
    consumer.join("g", ["contact.>"], credit=2)
    receive(consumer).ack()
    receive(consumer)                       # left in flight
    consumer.close()
    g = group_stats(producer, "g")
    assert g["acked"] == 1 and g["members"] == []
    assert g["in_flight"] == 0 and g["pending"] == 1        # handed back at once
    with pytest.raises(zhub.ZhubError, match="closed"):
        consumer.publish(env("l-3"))


@pytest.fixture
def fake_broker():
    """A ROUTER socket on a free port that plays the broker's part frame by
    frame: for what a real broker never sends."""
    from harness import free_port
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    endpoint = "tcp://127.0.0.1:%d" % free_port()
    sock.bind(endpoint)

    def next_frame(timeout=10.0):
        assert sock.poll(int(timeout * 1000)), "the client sent nothing"
        peer, data = sock.recv_multipart()
        return peer, msgpack.unpackb(data, raw=False)

    def answer(peer, frame):
        sock.send_multipart([peer, msgpack.packb(frame, use_bin_type=True)])

    yield endpoint, next_frame, answer
    sock.close(0)
    ctx.term()


def test_a_delivery_that_is_no_envelope_is_refused_for_good(fake_broker):
    endpoint, next_frame, answer = fake_broker
    with zhub.Client(endpoint, "consumer", heartbeat_thread=False) as c:
        done = {}
        joining = threading.Thread(target=lambda: done.setdefault(
            "joined", c.join("g", ["contact.>"], timeout=10)))
        joining.start()
        peer, hello = next_frame()
        peer, join = next_frame()
        assert hello == {"cmd": "HELLO", "v": 1, "name": "consumer"}
        assert (join["cmd"], join["group"], join["topics"]) == ("JOIN", "g", ["contact.>"])
        answer(peer, {"cmd": "JOINED", "seq": join["seq"], "group": "g"})
        joining.join(10)
        answer(peer, {"cmd": "DELIVER", "group": "g", "tag": 77, "offset": 1, "attempt": 1,
                      "msg": b"\x81\xa4data\xc0"})             # not an envelope
        assert c.receive(1.0) is None
        _, nack = next_frame()
        assert (nack["cmd"], nack["tag"], nack["terminal"], nack["code"]) == ("NACK", 77, True, 400)
        assert nack["reason"].startswith("client could not decode the envelope: ")


def test_a_broker_that_does_not_speak_version_1_is_reported(fake_broker):
    endpoint, next_frame, answer = fake_broker
    with zhub.Client(endpoint, "producer", heartbeat_thread=False) as c:
        with pytest.raises(NotConfirmed):
            c.publish(env("v-1"), timeout=1.0)       # the fake broker answers nothing yet
        peer, hello = next_frame()
        assert hello["cmd"] == "HELLO"
        answer(peer, {"cmd": "ERROR", "seq": 0, "code": 426, "reason": "speaks v2 only"})
        with pytest.raises(zhub.VersionRefused, match="speaks v2 only"):
            c.ping(30.0)                              # at once, not at the deadline
        with pytest.raises(zhub.VersionRefused):
            c.publish(env("v-1"))


def test_curve_a_known_key_publishes_a_stranger_gets_nowhere_plain_stays_local(hub, tmp_path):
    """CURVE (PROTOCOL.md 16) from the Python client: with a key of the
    allow-list it publishes and consumes as with plain; a key the broker
    does not know never gets a connection; plain is refused for an endpoint
    that is not on this machine, and curve without a key is refused too."""
    import os
    import subprocess
    from harness import BINARIES
    secrets, allow = str(tmp_path / "secrets"), str(tmp_path / "allow")
    for argv in (["keys", "new", "--broker", "--out", secrets],
                 ["keys", "new", "agent", "--publish", "agent.>", "--consume", "agent.>",
                  "--keys", allow, "--out", secrets]):
        subprocess.run([BINARIES["zhub"]] + argv, env=hub.env, check=True, capture_output=True)
    hub.start("broker", extra_env={"ZHUB_BUS_SECURITY": "curve", "ZHUB_BUS_KEYS": allow,
                                   "ZHUB_BROKER_CERT": os.path.join(secrets, "broker.key_secret")})
    broker_key = os.path.join(secrets, "broker.key")
    curve = zhub.Curve.load(os.path.join(secrets, "agent.key_secret"), broker_key)
    with zhub.Client(hub.env["ZHUB_BROKER"], "agent", curve=curve, instance="host-a") as c:
        c.join("agent", ["agent.>"])
        ack = c.publish(Envelope(id="a-1", type="agent.note", source="pytest"))
        assert ack.offset == 1
        d = c.receive(timeout=5)
        assert d.envelope.id == "a-1"
        d.ack()
        with pytest.raises(Rejected) as refused:
            c.publish(Envelope(id="a-2", type="contact.synced", source="pytest"))
        assert refused.value.code == 403
    public, secret = zmq.curve_keypair()
    stranger = zhub.Curve(public.decode(), secret.decode(), curve.server)
    with zhub.Client(hub.env["ZHUB_BROKER"], "stranger", curve=stranger) as c:
        with pytest.raises(NotConfirmed):
            c.publish(Envelope(id="s-1", type="agent.note", source="pytest"), timeout=2)
    with pytest.raises(ValueError, match="only for endpoints on this machine"):
        zhub.Client("tcp://10.0.0.7:7450", "remote", curve=False)
    env = {"ZHUB_BUS_SECURITY": "curve"}
    with pytest.raises(ValueError, match="ZHUB_BUS_CERT is not set"):
        zhub.security.from_env([hub.env["ZHUB_BROKER"]], env)
