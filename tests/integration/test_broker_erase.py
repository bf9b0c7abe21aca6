"""GDPR erase in the broker: once every group subscribed to a
`contact.forget` has processed it, every retained record that mentions the
person is redacted, the store is compacted (no old bytes in freed pages) and
`contact.erased` is published. Records about other people are untouched."""
import glob
import os
import time

import pytest

from harness import free_port, wait_until
from zhub_bus import Bus, Tap, envelope

PHONE, EMAIL, BIRD_ID, HUBSPOT_ID = "+5215512345678", "ana@example.com", "b-7f3a9c", "51"


@pytest.fixture
def broker(hub):
    hub.env["ZHUB_BROKER_TAP"] = "tcp://127.0.0.1:%d" % free_port()
    return hub.start("broker")


def store_bytes(hub):
    data = b""
    for path in glob.glob(os.path.join(hub.data_dir, "broker", "**", "*.mdb"), recursive=True):
        with open(path, "rb") as f:
            data += f.read()
    return data


def forget(request):
    return envelope("forget:" + request, "contact.forget", subject="erase:" + request,
                    source="zhub/contact-sync",
                    data={"request": request, "bird_contact_id": BIRD_ID,
                          "hubspot_contact_id": HUBSPOT_ID, "phone": PHONE, "email": EMAIL,
                          "identifiers": [EMAIL, PHONE, PHONE[1:], BIRD_ID, HUBSPOT_ID]})


def test_erase_redacts_every_mention_once_the_groups_are_done(hub, broker):
    tap = Tap(hub.env["ZHUB_BROKER_TAP"], "contact.erased")
    producer, sink, actor = Bus(hub.env["ZHUB_BROKER"], "p"), Bus(hub.env["ZHUB_BROKER"], "s"), \
        Bus(hub.env["ZHUB_BROKER"], "a")
    sink.join("sink", ["webhook.>"], credit=50)
    actor.join("deal-sync", ["contact.forget"], credit=1)
    about_her = [
        envelope("w1", "webhook.bird.contact.updated", subject="contact:" + BIRD_ID,
                 data={"email": EMAIL, "name": "Ana Pérez"}),
        envelope("w2", "webhook.hubspot.contact.propertyChange",
                 data={"objectId": int(HUBSPOT_ID), "propertyName": "firstname",
                       "propertyValue": "Ana Pérez"}),
        envelope("w3", "webhook.whatsapp.message", data={"wa_id": PHONE[1:], "text": "hola"}),
    ]
    about_him = [envelope("w4", "webhook.bird.contact.updated", subject="contact:b-other",
                          data={"email": "bob@example.com", "objectId": 5151})]
    producer.publish_many(about_her + about_him)
    for _ in range(4):
        d = sink.recv(5)
        assert d is not None
        sink.ack(d["tag"])
    producer.publish(forget("r1"))
    before = store_bytes(hub)
    assert EMAIL.encode() in before

    # deal-sync has not processed the forget yet: nothing is redacted
    time.sleep(1.5)
    assert producer.stats()["topics"].get("contact.erased", 0) == 0

    d = actor.recv(5)
    assert d["message"]["type"] == "contact.forget"
    actor.ack(d["tag"])
    erased = tap.recv(15)
    assert erased is not None, hub.logs()
    assert erased["message"]["data"] == {"request": "r1", "redacted": 4}   # 3 + the forget
    assert erased["message"]["id"] == "erased:r1"

    after = store_bytes(hub)
    for needle in (EMAIL, PHONE, PHONE[1:], BIRD_ID, "Ana P\u00e9rez"):
        assert needle.encode() not in after, needle
    assert b"bob@example.com" in after

    # the records stay (offsets, ids), their data is gone; a group reading
    # from the start sees the redacted form
    reader = Bus(hub.env["ZHUB_BROKER"], "r")
    reader.join("reader", ["webhook.>"], credit=10)
    seen = {}
    for _ in range(4):
        d = reader.recv(5)
        assert d is not None
        seen[d["message"]["id"]] = d["message"]
        reader.ack(d["tag"])
    assert seen["w1"]["data"] == {"zhub_erased": True} and seen["w1"]["subject"] == "erased"
    assert seen["w2"]["data"] == {"zhub_erased": True}
    assert seen["w3"]["data"] == {"zhub_erased": True}
    assert seen["w4"]["data"]["email"] == "bob@example.com"
    for client in (producer, sink, actor, reader):
        client.close()
    tap.close()


def test_pending_erase_survives_a_restart(hub, broker):
    producer, actor = Bus(hub.env["ZHUB_BROKER"], "p"), Bus(hub.env["ZHUB_BROKER"], "a")
    actor.join("scheduler", ["contact.forget"], credit=1)
    producer.publish(envelope("w1", "webhook.bird.contact.updated", data={"email": EMAIL}))
    producer.publish(forget("r2"))
    producer.close()
    actor.close()
    broker.stop()
    assert EMAIL.encode() in store_bytes(hub)
    hub.start("broker")
    actor = Bus(hub.env["ZHUB_BROKER"], "a2")
    actor.join("scheduler", ["contact.forget"], credit=1)
    d = actor.recv(10)
    assert d["message"]["id"] == "forget:r2"
    actor.ack(d["tag"])
    wait_until(lambda: actor.stats()["topics"].get("contact.erased", 0) == 1, 15,
               what="contact.erased after the restart")
    assert EMAIL.encode() not in store_bytes(hub)
    actor.close()


def test_erase_reaches_messages_held_for_later_delivery(hub, broker):
    """A message published with deliverat is retained too: the erase
    redacts it where it waits, and it is still delivered, redacted, later."""
    tap = Tap(hub.env["ZHUB_BROKER_TAP"], "contact.erased")
    producer, actor = Bus(hub.env["ZHUB_BROKER"], "p"), Bus(hub.env["ZHUB_BROKER"], "a")
    actor.join("scheduler", ["contact.forget"], credit=1)
    later = envelope("remind-1", "tour.reminder", subject="contact:" + BIRD_ID,
                     data={"email": EMAIL, "text": "Ana, your tour is tomorrow"})
    later["deliverat"] = int(time.time() * 1000) + 3600 * 1000
    ack = producer.publish(later)
    assert ack["cmd"] == "PUBACK" and ack["offset"] == 0
    assert producer.stats()["broker"]["delayed"] == 1
    assert EMAIL.encode() in store_bytes(hub)
    producer.publish(forget("r-held"))
    d = actor.recv(5)
    assert d["message"]["type"] == "contact.forget"
    actor.ack(d["tag"])
    erased = tap.recv(15)
    assert erased is not None, hub.logs()
    assert erased["message"]["data"] == {"request": "r-held", "redacted": 2}  # held + the forget
    assert EMAIL.encode() not in store_bytes(hub)
    assert producer.stats()["broker"]["delayed"] == 1   # still held, now redacted
    for client in (producer, actor):
        client.close()
    tap.close()
