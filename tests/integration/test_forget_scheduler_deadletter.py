"""GDPR erase in zhub-scheduler and zhub-dead-letter: contact-sync's
`contact.forget` (published here by hand, as contact-sync does) makes each
of them delete what it keeps about the person and answer
`contact.forgotten`; the person's bytes are then gone from its LMDB file,
and nobody else's state is touched. A repeat (another request for the same
person) removes nothing and is answered too."""
import glob
import os
import time
import uuid

from harness import wait_until
from peer_http import bus_messages, peer_fault, peer_requests, peer_state
from test_dead_letter import FAST, dead_letter, wait_listed, zhub, zhub_json  # noqa: F401
from test_dead_letter import bus  # noqa: F401  (fixture)
# contact.forget as contact-sync publishes it; Ana is the person it names by default
from test_forget_deal_activity import EMAIL as ANA_EMAIL, PHONE as ANA_PHONE, forget
from test_scheduler import ANA, LUIS, request, start, whatsapp_sent
from zhub_bus import envelope

LUIS_PHONE = "+5215598765432"


def forgotten(hub, actor, request_id):
    """The contact.forgotten answer of actor for request_id (waits for it)."""
    # one answer per replica: "forgotten:<actor>:<request>~<its instance>"
    wanted = "forgotten:%s:%s~" % (actor, request_id)
    found = wait_until(lambda: [m for m in bus_messages(hub, "contact.forgotten", quiet=0.3)
                                if m["id"] == wanted + m["data"].get("replica", "")],
                       timeout=15, what=wanted)
    assert len(found) == 1
    msg = found[0]
    assert msg["subject"] == "erase:" + request_id
    assert msg["source"] == "zhub/" + actor
    assert msg["data"]["request"] == request_id and msg["data"]["actor"] == actor
    return msg["data"]["removed"]


def store_bytes(hub, process):
    return b"".join(open(path, "rb").read()
                    for path in glob.glob(os.path.join(hub.data_dir, process, "*.mdb")))


def compacted(proc, times):
    wait_until(lambda: proc.log_text().count("event=compacted") >= times, timeout=10,
               what="%d compactions" % times)


def test_forget_removes_the_booking_and_its_reminder_never_fires(hub):
    every_hour = {"start": "00:00", "end": "24:00", "days": [0, 1, 2, 3, 4, 5, 6]}
    proc = start(hub, agents=(ANA, LUIS), reminders=["15s"], business_hours=every_hour)
    tour = int(time.time() * 1000) + 30000
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tour / 1000))
    ana = str(uuid.uuid4())
    luis = str(uuid.uuid4())
    request(hub, [when], bird_id=ana, duration_min=5)
    wait_until(lambda: bus_messages(hub, "tour.scheduled", quiet=0.3), what="Ana's booking")
    request(hub, [when], bird_id=luis, duration_min=5, phone=LUIS_PHONE)
    scheduled = wait_until(lambda: (lambda m: m if len(m) == 2 else None)(
        bus_messages(hub, "tour.scheduled", quiet=0.3)), what="both bookings")
    assert {m["data"]["agent_id"] for m in scheduled} == {"ana", "luis"}
    [booked] = [m["data"] for m in scheduled if m["subject"] == "contact:" + ana]
    assert ana.encode() in store_bytes(hub, "scheduler")

    forget(hub, "r1", bird_id=ana, hubspot_id="501")
    # the booking and its hold (and on Graph, the link from the event id
    # back to the booking); her reminder waits in the broker, naming only
    # the booking, and is dropped when it arrives
    assert forgotten(hub, "scheduler", "r1") == (3 if booked["platform"] == "graph" else 2)
    # without --upstream the calendars are left alone
    assert peer_requests(hub, "google", "/calendar/v3/calendars/", "DELETE") == []
    assert peer_requests(hub, "graph", "/v1.0/users/", "DELETE") == []
    assert time.time() * 1000 < tour - 15000, "too slow: the reminder was due before the erase"
    compacted(proc, 1)
    raw = store_bytes(hub, "scheduler")
    for trace in (ana, ANA_PHONE, ANA_PHONE[1:], ANA_EMAIL, "conv-" + ana[:6]):
        assert trace.encode() not in raw, trace
    assert luis.encode() in raw and LUIS_PHONE.encode() in raw

    # the same person again (another request): nothing left, still answered
    forget(hub, "r2", bird_id=ana)
    assert forgotten(hub, "scheduler", "r2") == 0

    # Luis's reminder fires, Ana's does not
    wait_until(lambda: bus_messages(hub, "tour.reminder", quiet=0.3), timeout=25,
               what="Luis's reminder")
    time.sleep(max(0.0, (tour - 14000) / 1000 - time.time()) + 1.0)
    reminders = bus_messages(hub, "tour.reminder", quiet=0.3)
    assert [m["subject"] for m in reminders] == ["contact:" + luis]
    receivers = [m["receiver"]["contacts"][0]["identifierValue"]
                 for m in whatsapp_sent(hub, "reminder")]
    assert receivers == [LUIS_PHONE]
    log = proc.log_text()
    assert ANA_PHONE not in log and ANA_EMAIL not in log
    # her reminder did come due, and found no booking
    assert ("topic=scheduler.timer.reminder subject=booking:%s attempt=1 "
            "outcome=unknown_booking" % booked["booking_id"]) in log


def test_forget_with_upstream_deletes_the_persons_calendar_events(hub):
    proc = start(hub, agents=(ANA, LUIS))
    ana, luis = str(uuid.uuid4()), str(uuid.uuid4())
    request(hub, ["2030-03-05T17:00:00Z"], bird_id=ana, leasing_agent_id="ana")
    request(hub, ["2030-03-05T19:00:00Z"], bird_id=ana, leasing_agent_id="luis",
            conversation_id="conv-2-" + ana[:6])
    request(hub, ["2030-03-06T17:00:00Z"], bird_id=luis, leasing_agent_id="ana",
            phone=LUIS_PHONE)
    scheduled = wait_until(lambda: (lambda m: m if len(m) == 3 else None)(
        bus_messages(hub, "tour.scheduled", quiet=0.3)), what="three bookings")
    by_agent = {}
    for m in scheduled:
        by_agent.setdefault((m["subject"], m["data"]["platform"]), m["data"])
    ana_google = by_agent[("contact:" + ana, "google")]["calendar_event_id"]
    ana_graph = by_agent[("contact:" + ana, "graph")]["calendar_event_id"]
    luis_google = by_agent[("contact:" + luis, "google")]["calendar_event_id"]

    # Graph fails once: the message is retried, and only then is anything
    # deleted here
    peer_fault(hub, "graph", status=503, count=1, method="DELETE")
    forget(hub, "r-up", bird_id=ana, upstream=True)
    assert forgotten(hub, "scheduler", "r-up") > 0
    assert "outcome=retry" in proc.log_text()
    google = {e["id"]: e for e in peer_state(hub, "google")["events"]["ana@urbanhub.mx"]}
    assert google[ana_google]["status"] == "cancelled"
    assert google[luis_google]["status"] == "confirmed"
    graph = peer_state(hub, "graph")["events"].get("luis@urbanhub.mx", [])
    assert ana_graph not in [e["id"] for e in graph]
    # (when the Google event went first, the retry deleted it again: already
    # gone, 410, which counts as deleted)
    deleted = peer_requests(hub, "google", "/calendar/v3/calendars/", "DELETE")
    assert all("sendUpdates=none" in d["query"] for d in deleted)   # no e-mail to the person
    assert len(deleted) in (1, 2)

    # again (another request): the bookings are gone, nothing is deleted twice
    forget(hub, "r-up-2", bird_id=ana, upstream=True)
    assert forgotten(hub, "scheduler", "r-up-2") == 0
    assert len(peer_requests(hub, "google", "/calendar/v3/calendars/", "DELETE")) == len(deleted)


def test_forget_removes_the_dead_letters_that_mention_the_person(hub, bus):  # noqa: F811
    proc = hub.start("dead-letter")
    producer, consumer = bus("producer"), bus("consumer")
    consumer.join("contact-sync", ["webhook.hubspot.>"], credit=1)
    dead_letter(producer, consumer, "contact-sync",
                envelope("hs:1", "webhook.hubspot.contact.propertyChange",
                         subject="hubspot:contact:501",
                         data={"objectId": 501, "propertyName": "email",
                               "propertyValue": ANA_EMAIL}), 409, "email already in use")
    dead_letter(producer, consumer, "contact-sync",
                envelope("hs:2", "webhook.hubspot.contact.propertyChange",
                         subject="hubspot:contact:777",
                         data={"objectId": 777, "propertyName": "phone",
                               "propertyValue": LUIS_PHONE}), 422, "invalid phone")
    dead_letter(producer, consumer, "contact-sync",
                envelope("hs:3", "webhook.hubspot.contact.creation", subject="hubspot:contact:9",
                         data={"note": "call Ana at " + ANA_PHONE + " tomorrow"}),
                422, "invalid note")
    wait_listed(hub, 3)
    assert ANA_EMAIL.encode() in store_bytes(hub, "dead-letter")

    forget(hub, "r1", hubspot_id="501")
    assert forgotten(hub, "dead-letter", "r1") == 2
    rows = zhub_json(hub, "dlq", "list")
    assert [r["original_id"] for r in rows] == ["hs:2"]
    assert zhub(hub, "dlq", "show", "dlq:contact-sync:hs:1").returncode == 4
    assert zhub(hub, "dlq", "show", "1").returncode == 4
    compacted(proc, 1)
    raw = store_bytes(hub, "dead-letter")
    for trace in (ANA_EMAIL, ANA_PHONE, ANA_PHONE[1:]):
        assert trace.encode() not in raw, trace
    assert LUIS_PHONE.encode() in raw

    # a repeat removes nothing and is answered; Luis's letter still replays
    forget(hub, "r2")
    assert forgotten(hub, "dead-letter", "r2") == 0
    assert [r["original_id"] for r in zhub_json(hub, "dlq", "list")] == ["hs:2"]
    assert zhub(hub, "dlq", "replay", "2").returncode == 0
    replay = consumer.recv(5)
    assert replay is not None and replay["message"]["data"]["propertyValue"] == LUIS_PHONE
    consumer.ack(replay["tag"])
    log = proc.log_text()
    assert ANA_EMAIL not in log and ANA_PHONE not in log
