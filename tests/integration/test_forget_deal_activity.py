"""contact.forget (step 3 of `zhub erase contact`) end to end for
zhub-deal-sync and zhub-activity-log: the real broker and actor against
the stand-in HubSpot and Bird. A person's state is built through the
normal events; then contact.forget is published as contact-sync publishes
it, and what is checked is what an auditor would check: the actor answers
contact.forgotten for the request, the audit trail no longer shows the
person, and once the actor has stopped its LMDB file holds none of the
person's bytes (while another person's are still there)."""
import json
import os
import time
import uuid

from harness import wait_until
from peer_http import peer_fault, peer_state, publish, seed_hubspot
from test_contact_sync import handled_lines
from test_deal_sync import audit, seed_contact, stage_changed, wait_stage
from test_deal_sync import publish as publish_contact
from zhub_bus import Bus

PHONE = "+5215512345678"
EMAIL = "ana@example.com"


def forget(hub, request, bird_id=None, hubspot_id=None, phone=PHONE, email=EMAIL, id_=None,
           upstream=False):
    """contact.forget as contact-sync publishes it (CONTEXT step 2)."""
    data = {"request": request}
    if upstream:
        data["upstream"] = True
    identifiers = []
    for key, value in (("bird_contact_id", bird_id), ("hubspot_contact_id", hubspot_id),
                       ("phone", phone), ("email", email)):
        if value:
            data[key] = value
            identifiers.append(value)
    if phone:
        identifiers.append(phone.lstrip("+"))
    data["identifiers"] = identifiers
    publish(hub, "contact.forget", data, subject="erase:" + request,
            id_=id_ or "forget:" + request)


def forgotten(hub, actor, request, timeout=15.0):
    """The contact.forgotten the actor published for request (read by an
    observer group from the start of the log)."""
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-forgotten")
    try:
        bus.join("observer-%s" % uuid.uuid4().hex[:8], ["contact.forgotten"], credit=16,
                 start="earliest")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            delivery = bus.recv(1.0)
            if delivery is None:
                continue
            bus.ack(delivery["tag"])
            msg = delivery["message"]
            if msg["data"].get("actor") == actor and msg["data"].get("request") == request:
                return msg
        raise AssertionError("no contact.forgotten from %s for %s" % (actor, request))
    finally:
        bus.close()


def store_bytes(hub, actor):
    with open(os.path.join(hub.data_dir, actor, "data.mdb"), "rb") as f:
        return f.read()


def assert_answer(msg, actor, request):
    # one answer per replica, named by its instance
    assert msg["id"] == "forgotten:%s:%s~%s" % (actor, request, msg["data"]["replica"])
    assert msg["subject"] == "erase:" + request
    assert msg["source"] == "zhub/" + actor


# ------------------------------------------------------------ deal-sync

def deal_sync_with_two_deals(hub):
    """deal-sync with a deal each for Ana (the person erased) and Bob.
    Returns (the process, Ana's Bird id, her HubSpot id, Bob's Bird id)."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    sync = hub.start("deal-sync")
    bird_id, contact_id = seed_contact(hub, "Ana López", PHONE)
    bob_id, bob_contact = seed_contact(hub, "Bob", "+5215599998888")
    for bird, contact in ((bird_id, contact_id), (bob_id, bob_contact)):
        publish_contact(hub, "contact.synced", bird, {"bird_contact_id": bird,
                                                      "hubspot_contact_id": contact,
                                                      "changed": [], "direction": "bird_to_hubspot"})
        stage_changed(hub, bird, "lead")
        wait_stage(hub, bird, "qualifiedtobuy")
    return sync, bird_id, contact_id, bob_id


def test_deal_sync_forgets_the_persons_deals_ids_and_audit(hub):
    sync, bird_id, contact_id, bob_id = deal_sync_with_two_deals(hub)
    assert audit(hub, bird_id) and audit(hub, bob_id)

    forget(hub, "r-deal", bird_id=bird_id, hubspot_id=contact_id)
    answer = forgotten(hub, "deal-sync", "r-deal")
    assert_answer(answer, "deal-sync", "r-deal")
    # the id map, the deal, its id index and at least one audit entry
    assert answer["data"]["removed"] == 4, answer
    assert audit(hub, bird_id) == []
    assert audit(hub, bob_id)

    # a second forget for the same person removes nothing and still answers
    forget(hub, "r-deal", bird_id=bird_id, hubspot_id=contact_id, id_="forget:r-deal:again")
    wait_until(lambda: any("removed=0" in line for line in handled_lines(sync, "forgotten")),
               what="the second forget to remove nothing")

    # the deal stays in HubSpot: forgetting is about what zhub keeps
    assert any(d["properties"].get("zhub_deal_key") == bird_id + "/default"
               for d in peer_state(hub, "hubspot")["deals"])
    sync.stop()
    data = store_bytes(hub, "deal-sync")
    assert bird_id.encode() not in data
    assert bob_id.encode() in data


def test_deal_sync_forget_with_upstream_unties_the_persons_deals_in_hubspot(hub):
    sync, bird_id, contact_id, bob_id = deal_sync_with_two_deals(hub)

    forget(hub, "r-deal-up", bird_id=bird_id, hubspot_id=contact_id, upstream=True)
    answer = forgotten(hub, "deal-sync", "r-deal-up")
    assert answer["data"]["removed"] == 4, answer
    deals = peer_state(hub, "hubspot")["deals"]
    [ana] = [d for d in deals if d["properties"].get("dealname") == "WhatsApp lead (erased)"]
    assert not ana["properties"].get("zhub_deal_key")
    assert not ana["properties"].get("conversation_id")
    assert ana["properties"]["dealstage"] == "qualifiedtobuy"    # the sales record stays
    [bob] = [d for d in deals if d["properties"].get("zhub_deal_key") == bob_id + "/default"]
    assert bob_id in bob["properties"]["dealname"]
    assert not any(bird_id in str(d["properties"]) for d in deals)
    assert any("event=deal_redacted" in line for line in sync.log_text().splitlines())
    sync.stop()
    data = store_bytes(hub, "deal-sync")
    assert bird_id.encode() not in data
    assert bob_id.encode() in data


# ---------------------------------------------------------- activity-log

def start_activity_log(hub):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    return hub.start("activity-log", extra_env={"ZHUB_ACTIVITY_TRANSCRIPT_INTERVAL": "1s",
                                               "ZHUB_BACKOFF": "200ms"})


def test_activity_log_forgets_conversations_ids_and_parked_events(hub):
    log = start_activity_log(hub)
    people = {}
    for name in ("ana", "bob"):
        bird = str(uuid.uuid4())
        contact = seed_hubspot(hub, "contacts", {"email": "%s-%s@example.org" % (name, bird[:8]),
                                                 "bird_contact_id": bird})
        publish(hub, "contact.synced", {"bird_contact_id": bird, "hubspot_contact_id": contact},
                subject="contact:" + bird)
        people[name] = (bird, contact)
    ana, ana_contact = people["ana"]
    bob, _ = people["bob"]
    publish(hub, "conversation.message",
            {"conversation_id": "conv-ana", "bird_contact_id": ana, "direction": "in",
             "text": "Hola, soy Ana: %s, %s" % (EMAIL, PHONE)}, subject="contact:" + ana)
    publish(hub, "conversation.message",
            {"conversation_id": "conv-bob", "bird_contact_id": bob, "direction": "in",
             "text": "Hola, soy Bob: +5215599998888"}, subject="contact:" + bob)
    # someone HubSpot does not know yet writes about her: the event is parked
    stranger = str(uuid.uuid4())
    publish(hub, "escalation.triggered",
            {"conversation_id": "conv-x", "bird_contact_id": stranger,
             "reason": "pregunta por %s" % EMAIL, "priority": "high"},
            subject="contact:" + stranger)

    def transcripts():
        notes = peer_state(hub, "hubspot")["notes"]
        return len([n for n in notes if "Hola, soy" in n["properties"]["hs_note_body"]]) == 2
    wait_until(transcripts, what="both transcript notes")
    wait_until(lambda: handled_lines(log, "parked"), what="the stranger's event to be parked")

    forget(hub, "r-act", bird_id=ana, hubspot_id=ana_contact)
    answer = forgotten(hub, "activity-log", "r-act")
    assert_answer(answer, "activity-log", "r-act")
    # the id map entry, the conversation cache, the parked event, the record
    # of her transcript note (for an upstream erase)
    assert answer["data"]["removed"] == 4, answer
    # without upstream HubSpot is left alone
    assert [n for n in peer_state(hub, "hubspot")["notes"]
            if "Hola, soy Ana" in n["properties"]["hs_note_body"]]

    forget(hub, "r-act", bird_id=ana, hubspot_id=ana_contact, id_="forget:r-act:again")
    wait_until(lambda: any("removed=0" in line for line in handled_lines(log, "forgotten")),
               what="the second forget to remove nothing")
    log.stop()
    data = store_bytes(hub, "activity-log")
    for gone in (ana, EMAIL, PHONE, PHONE.lstrip("+"), stranger):
        assert gone.encode() not in data, gone
    assert bob.encode() in data and b"+5215599998888" in data


def test_activity_log_forget_with_upstream_deletes_what_it_wrote_about_her(hub):
    """HubSpot's GDPR delete of a contact leaves the notes and meetings also
    associated with a deal (they stay on the deal's timeline): with upstream,
    activity-log deletes every engagement it made about the person."""
    log = start_activity_log(hub)
    people = {}
    for name in ("ana", "bob"):
        bird = str(uuid.uuid4())
        contact = seed_hubspot(hub, "contacts", {"email": "%s-%s@example.org" % (name, bird[:8]),
                                                 "bird_contact_id": bird})
        deal = seed_hubspot(hub, "deals", {"dealname": "lead " + name, "pipeline": "default",
                                           "dealstage": "appointmentscheduled"})
        publish(hub, "contact.synced", {"bird_contact_id": bird, "hubspot_contact_id": contact,
                                        "hubspot_deal_id": deal}, subject="contact:" + bird)
        publish(hub, "conversation.message",
                {"conversation_id": "conv-" + name, "bird_contact_id": bird, "direction": "in",
                 "text": "Hola, soy %s" % name}, subject="contact:" + bird)
        publish(hub, "escalation.triggered",
                {"conversation_id": "conv-" + name, "bird_contact_id": bird,
                 "reason": "quiere hablar con alguien", "priority": "high"},
                subject="contact:" + bird)
        people[name] = (bird, contact)

    def made(name):
        state = peer_state(hub, "hubspot")
        return [e for kind in ("notes", "tasks") for e in state[kind]
                if ("soy %s" % name) in json.dumps(e) or
                people[name][1] in json.dumps(e.get("associations", []))]
    wait_until(lambda: len(made("ana")) >= 2 and len(made("bob")) >= 2,
               what="a transcript note and an escalation task each")

    peer_fault(hub, "hubspot", status=503, count=1, method="DELETE")   # retried
    ana, ana_contact = people["ana"]
    forget(hub, "r-act-up", bird_id=ana, hubspot_id=ana_contact, upstream=True)
    assert forgotten(hub, "activity-log", "r-act-up")["data"]["removed"] >= 3
    assert made("ana") == []
    assert len(made("bob")) >= 2
    assert "outcome=retry" in log.log_text()


def test_activity_log_no_longer_serves_contact_erase(hub):
    """contact.forget replaced the old contact.erase route: contact-sync is
    the only consumer of contact.erase, which it turns into contact.forget."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    log = hub.start("activity-log")
    bird = str(uuid.uuid4())
    contact = seed_hubspot(hub, "contacts", {"email": "x@example.org", "bird_contact_id": bird})
    publish(hub, "contact.synced", {"bird_contact_id": bird, "hubspot_contact_id": contact},
            subject="contact:" + bird)
    wait_until(lambda: handled_lines(log, "learned"), what="the id to be learned")
    publish(hub, "contact.erase", {"request": "r-old", "identifier": bird, "upstream": False},
            subject="erase:r-old")
    time.sleep(1.0)
    assert not [l for l in handled_lines(log) if "topic=contact.erase" in l]
    log.stop()
    assert bird.encode() in store_bytes(hub, "activity-log")
