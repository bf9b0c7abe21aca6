"""zhub-contact-sync end to end: signed webhooks through the real gateway
and broker, contact-sync against the stand-in HubSpot and Bird servers.

What a user would check is what these tests check: the contact that
reached the peer (GET /__peer/state), the calls the peer saw
(GET /__peer/requests), and contact-sync's one log line per message.
Webhooks are signed here exactly as the providers sign them:
  HubSpot v3: base64 HMAC-SHA256(app secret, "POST" + url + body + ts_ms)
  Bird:       base64 HMAC-SHA256(signing key, ts + "\\n" + url + "\\n" + sha256(body))
"""
import base64
import hashlib
import hmac
import json
import re
import time
import uuid


from harness import wait_until
from peer_http import bus_messages, http, peer_fault, peer_requests, peer_state  # noqa: F401
from zhub_bus import Bus, envelope



# ------------------------------------------------------------- signing

def sign_hubspot_v3(secret, url, body, timestamp_ms):
    message = b"POST" + url.encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def sign_bird(key, timestamp, url, body):
    message = ("%s\n%s\n" % (timestamp, url)).encode() + hashlib.sha256(body).digest()
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def post_hubspot_webhook(hub, events):
    url = hub.gateway_url + "/v1/webhooks/hubspot"
    body = json.dumps(events, separators=(",", ":")).encode()
    stamp = int(time.time() * 1000)
    headers = {"Content-Type": "application/json",
               "X-HubSpot-Signature-v3": sign_hubspot_v3(hub.HUBSPOT_SECRET, url, body, stamp),
               "X-HubSpot-Request-Timestamp": str(stamp)}
    return http("POST", url, raw=body, headers=headers)


def post_bird_webhook(hub, envelope, request_id=None):
    url = hub.gateway_url + "/v1/webhooks/bird"
    body = json.dumps(envelope, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json",
               "messagebird-signature": sign_bird(hub.BIRD_KEY, stamp, url, body),
               "messagebird-request-timestamp": stamp,
               "messagebird-request-id": request_id or str(uuid.uuid4())}
    return http("POST", url, raw=body, headers=headers)


# -------------------------------------------------------------- fixtures

BIRD_AUTH = {"Authorization": "AccessKey test-bird-key"}
HUBSPOT_AUTH = {"Authorization": "Bearer test-hubspot-token"}


# contact-sync runs as deployed: its HubSpot writes wait up to the batch
# window (200 ms) to share a call. The tests of a message in flight while
# contact-sync stops turn batching off, so that the write is made while the
# message is handled (UNBATCHED).
UNBATCHED = {"ZHUB_HUBSPOT_BATCH_WINDOW": "0"}


def start_stack(hub, **contact_sync_env):
    """Peers first (their URLs go into the environment), then broker,
    gateway and contact-sync. Returns contact-sync's Proc."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    return hub.start("contact-sync", extra_env=contact_sync_env)


def seed_bird_contact(hub, name, phone, email=None):
    identifiers = [{"key": "phonenumber", "value": phone}]
    if email:
        identifiers.append({"key": "emailaddress", "value": email})
    status, contact = http("POST", "%s/workspaces/%s/contacts" % (hub.peers["bird"], hub.WORKSPACE),
                           {"displayName": name, "identifiers": identifiers}, BIRD_AUTH)
    assert status == 201, contact
    return contact["id"]


def seed_hubspot_contact(hub, properties):
    status, contact = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts",
                           {"properties": properties}, HUBSPOT_AUTH)
    assert status == 201, contact
    return contact["id"]


def inbound_message(contact_id, phone, text="Hola, ¿tienen departamentos?"):
    """A Bird channels whatsapp.inbound event shaped like
    samples/bird-message-created.json."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"service": "channels", "event": "whatsapp.inbound", "payload": {
        "id": str(uuid.uuid4()), "channelId": "52ad151f-f7b4-46f9-a5c6-d3318e650c84",
        "sender": {"contact": {"id": contact_id, "identifierKey": "phonenumber",
                               "identifierValue": phone}},
        "receiver": {"connector": {"id": "60bf59d6-fc6f-4511-89c4-75d9127d7a7c",
                                   "identifierValue": ""}},
        "body": {"type": "text", "text": {"text": text}},
        "parts": [{"platformReference": "wamid.TEST"}], "status": "delivered",
        "reason": "", "direction": "incoming", "createdAt": stamp, "updatedAt": stamp}}


def hubspot_event(object_id, subscription_type="contact.creation", event_id=1, **extra):
    event = {"eventId": event_id, "subscriptionId": 12345, "portalId": 62515,
             "occurredAt": int(time.time() * 1000), "subscriptionType": subscription_type,
             "attemptNumber": 0, "objectId": int(object_id), "changeSource": "CRM_UI",
             "appId": 54321}
    event.update(extra)
    return event


def hubspot_contacts_with(hub, bird_id):
    return [c for c in peer_state(hub, "hubspot")["contacts"]
            if c["properties"].get("bird_contact_id") == bird_id]


def bird_contact(hub, bird_id):
    for contact in peer_state(hub, "bird")["contacts"]:
        if contact["id"] == bird_id:
            return contact
    return None


def handled_lines(proc, outcome=None):
    lines = [l for l in proc.log_text().splitlines() if "event=handled" in l]
    if outcome:
        lines = [l for l in lines if "outcome=%s" % outcome in l]
    return lines


def flush_lines(proc):
    """The batch flushes' log lines (one per flush)."""
    return [l for l in proc.log_text().splitlines() if "event=batch_flushed" in l]


# ----------------------------------------------------------------- tests

def test_bird_webhook_creates_hubspot_contact(hub):
    sync = start_stack(hub)
    bird_id = seed_bird_contact(hub, "José María Pérez", "+5215512345678", "Jose.Maria@Example.com")
    status, _ = post_bird_webhook(hub, inbound_message(bird_id, "+5215512345678"))
    assert 200 <= status < 300

    contacts = wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=15,
                          what="the HubSpot contact for bird %s" % bird_id)
    assert len(contacts) == 1
    props = contacts[0]["properties"]
    assert props["firstname"] == "José"
    assert props["lastname"] == "María Pérez"
    assert props["phone"] == "+525512345678"
    assert props["email"] == "jose.maria@example.com"

    # One Bird read (the event names the contact but not its name), one
    # idempotent upsert keyed on bird_contact_id; credentials as the APIs want.
    reads = peer_requests(hub, "bird", "/workspaces/%s/contacts/%s" % (hub.WORKSPACE, bird_id), "GET")
    assert len(reads) == 1
    assert reads[0]["headers"]["authorization"] == "AccessKey test-bird-key"
    upserts = peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/batch/upsert", "POST")
    assert len(upserts) == 1
    assert upserts[0]["headers"]["authorization"] == "Bearer test-hubspot-token"
    assert upserts[0]["body"]["inputs"][0]["idProperty"] == "bird_contact_id"
    assert upserts[0]["body"]["inputs"][0]["id"] == bird_id

    # The message is done once its write is queued for the batch; the
    # flush that sends it says what became of it.
    line = wait_until(lambda: handled_lines(sync, "queued"), what="the handled log line")[0]
    assert "topic=webhook.bird.whatsapp.inbound" in line
    assert re.search(r"\bid=\S+", line) and re.search(r"\bms=\d+", line)
    flushed = wait_until(lambda: flush_lines(sync), what="the flush's log line")
    assert "count=1 synced=1 refused=0 deferred=0" in flushed[0], flushed
    assert "test-hubspot-token" not in sync.log_text()
    assert "test-bird-key" not in sync.log_text()

    synced = wait_until(lambda: bus_messages(hub, "contact.synced"), what="contact.synced")
    assert len(synced) == 1
    event = synced[0]
    assert event["source"] == "zhub/contact-sync"
    assert event["subject"] == "contact:" + bird_id
    assert event["id"].startswith("cs-")
    assert event["data"]["bird_contact_id"] == bird_id
    assert event["data"]["hubspot_contact_id"] == contacts[0]["id"]
    assert event["data"]["direction"] == "bird_to_hubspot"
    assert event["data"]["changed"] == ["firstname", "lastname", "phone", "email"]


def test_hubspot_contact_creation_updates_bird(hub):
    start_stack(hub)
    hubspot_id = seed_hubspot_contact(hub, {"firstname": "Ana", "lastname": "López",
                                            "phone": "+52 1 55 8765 4321",
                                            "email": "Ana.Lopez@Example.com"})
    status, _ = post_hubspot_webhook(hub, [hubspot_event(hubspot_id)])
    assert 200 <= status < 300

    def linked():
        found = [c for c in peer_state(hub, "bird")["contacts"]
                 if c["attributes"].get("hubspot_contact_id") == hubspot_id]
        return found if found else None

    contacts = wait_until(linked, timeout=15, what="the Bird contact for hubspot %s" % hubspot_id)
    assert len(contacts) == 1
    contact = contacts[0]
    assert contact["computedDisplayName"] == "Ana López"
    identifiers = {(i["key"], i["value"]) for i in contact["featuredIdentifiers"]}
    assert ("phonenumber", "+525587654321") in identifiers
    assert ("emailaddress", "ana.lopez@example.com") in identifiers

    # Upserted by the E.164 phone, URL-encoded; then HubSpot learns the Bird id.
    patches = peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE, "PATCH")
    assert [p["path"] for p in patches] == [
        "/workspaces/%s/contacts/identifiers/phonenumber/%%2B525587654321" % hub.WORKSPACE]
    wait_until(lambda: peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/%s" % hubspot_id,
                                     "PATCH"), what="the link back to HubSpot")
    status, record = http("GET", "%s/crm/v3/objects/contacts/%s?properties=bird_contact_id"
                          % (hub.peers["hubspot"], hubspot_id), headers=HUBSPOT_AUTH)
    assert record["properties"]["bird_contact_id"] == contact["id"]
    synced = bus_messages(hub, "contact.synced")
    assert [e["data"]["direction"] for e in synced] == ["hubspot_to_bird"]
    assert synced[0]["subject"] == "contact:" + contact["id"]
    assert synced[0]["data"]["hubspot_contact_id"] == hubspot_id


def test_hubspot_rename_reaches_the_linked_bird_contact(hub):
    """A name changed in HubSpot lands on the Bird contact as the attributes
    Bird's update documents (displayName, firstName, lastName): the Bird
    stand-in, like Bird, ignores a top-level displayName on update."""
    start_stack(hub)
    hubspot_id = seed_hubspot_contact(hub, {"firstname": "Ana", "lastname": "López",
                                            "phone": "+5215587654321"})
    post_hubspot_webhook(hub, [hubspot_event(hubspot_id)])

    def bird_contact(name):
        found = [c for c in peer_state(hub, "bird")["contacts"]
                 if c["attributes"].get("hubspot_contact_id") == hubspot_id
                 and c["computedDisplayName"] == name]
        return found[0] if found else None

    contact = wait_until(lambda: bird_contact("Ana López"), timeout=15, what="the Bird contact")
    status, _ = http("PATCH", "%s/crm/v3/objects/contacts/%s" % (hub.peers["hubspot"], hubspot_id),
                     {"properties": {"lastname": "López Ruiz"}}, HUBSPOT_AUTH)
    assert status == 200
    post_hubspot_webhook(hub, [hubspot_event(hubspot_id, "contact.propertyChange", event_id=2,
                                             propertyName="lastname",
                                             propertyValue="López Ruiz")])
    renamed = wait_until(lambda: bird_contact("Ana López Ruiz"), timeout=15,
                         what="the new name on the Bird contact")
    assert renamed["id"] == contact["id"]
    assert renamed["attributes"]["firstName"] == "Ana"
    assert renamed["attributes"]["lastName"] == "López Ruiz"
    update = peer_requests(hub, "bird", "/workspaces/%s/contacts/%s" % (hub.WORKSPACE,
                                                                        contact["id"]), "PATCH")
    renames = [r["body"] for r in update if "displayName" in r["body"].get("attributes", {})]
    assert renames and all("displayName" not in body for body in renames), renames


def test_same_webhook_three_times_changes_peer_once(hub):
    sync = start_stack(hub)
    hubspot_id = seed_hubspot_contact(hub, {"firstname": "Luis", "phone": "+5215511112222"})
    events = [hubspot_event(hubspot_id, event_id=7)]
    for _ in range(3):
        status, _ = post_hubspot_webhook(hub, events)
        assert 200 <= status < 300

    bird_id = seed_bird_contact(hub, "Marta Díaz", "+5215533334444")
    message = inbound_message(bird_id, "+5215533334444")
    for _ in range(3):
        status, _ = post_bird_webhook(hub, message, request_id="bird-req-3x")
        assert 200 <= status < 300

    wait_until(lambda: len(bus_messages(hub, "contact.synced", quiet=0.2)) >= 2, timeout=15,
               what="both contacts synced")
    # One Bird write per contact: the HubSpot contact's data for Luis; the
    # new HubSpot id (attribute hubspot_contact_id) for Marta, written once
    # contact-sync is idle.
    wait_until(lambda: len(peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE,
                                         "PATCH")) >= 2, timeout=15, what="both Bird writes")
    time.sleep(1.5)   # room for a wrongly repeated write to show up
    bird_writes = peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE, "PATCH")
    assert len(bird_writes) == 2, bird_writes
    links = [w for w in bird_writes if w["path"].endswith("/" + bird_id)]
    assert len(links) == 1 and set(links[0]["body"]) == {"attributes"}
    upserts = peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/batch/upsert", "POST")
    assert len(upserts) == 1, upserts
    assert len(hubspot_contacts_with(hub, bird_id)) == 1
    # Luis's message written at once (Bird), Marta's queued for the batch
    assert len(handled_lines(sync, "synced")) == 1 and len(handled_lines(sync, "queued")) == 1
    assert len(flush_lines(sync)) == 1
    assert len(bus_messages(hub, "contact.synced")) == 2


def test_killed_mid_call_is_redelivered_and_applied_once(hub):
    sync = start_stack(hub, ZHUB_ACK_DEADLINE="2s", **UNBATCHED)
    bird_id = seed_bird_contact(hub, "Pedro Páramo", "+5215599990000")
    # The upsert reaches HubSpot (and is applied) only after 3 s: contact-sync
    # is killed while it waits, so the call happened but no ack was sent.
    peer_fault(hub, "hubspot", delay_ms=3000, count=1,
               path_prefix="/crm/v3/objects/contacts/batch/upsert")
    post_bird_webhook(hub, inbound_message(bird_id, "+5215599990000"))
    wait_until(lambda: "bird get contact" in sync.log_text(), timeout=10,
               what="contact-sync to read the Bird contact")
    time.sleep(0.5)   # the upsert is now in flight
    sync.kill9()
    assert not handled_lines(sync)

    restarted = hub.start("contact-sync", extra_env=dict(UNBATCHED, ZHUB_ACK_DEADLINE="2s"))
    wait_until(lambda: [l for l in handled_lines(restarted, "synced") if "attempt=1" not in l],
               timeout=20, what="the redelivery to be synced")
    # The interrupted upsert and the redelivered one both reached HubSpot;
    # keyed on bird_contact_id, they made one contact.
    wait_until(lambda: len(peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/batch/upsert",
                                         "POST")) == 2, timeout=10, what="both upserts logged")
    contacts = hubspot_contacts_with(hub, bird_id)
    assert len(contacts) == 1
    assert contacts[0]["properties"]["firstname"] == "Pedro"
    synced = bus_messages(hub, "contact.synced")
    assert len(synced) == 1 and synced[0]["data"]["hubspot_contact_id"] == contacts[0]["id"]


def test_killed_mid_flush_sends_the_write_again_once(hub):
    """As deployed (the batch window on), a message is acked once its write
    is queued. contact-sync killed while the batch's upsert is in flight
    still has the write queued: restarted, it sends it again (keyed on
    bird_contact_id), and the contact is there once, announced once."""
    sync = start_stack(hub)
    bird_id = seed_bird_contact(hub, "Pedro Páramo", "+5215599990000")
    peer_fault(hub, "hubspot", delay_ms=3000, count=1,
               path_prefix="/crm/v3/objects/contacts/batch/upsert")
    post_bird_webhook(hub, inbound_message(bird_id, "+5215599990000"))
    wait_until(lambda: handled_lines(sync, "queued"), timeout=10, what="the write queued")
    # the stand-in takes the fault when the upsert arrives: it is in flight
    wait_until(lambda: not http("GET", hub.peers["hubspot"] + "/__peer/faults")[1]["faults"],
               timeout=10, what="the batch's upsert in flight")
    sync.kill9()
    assert not flush_lines(sync)

    restarted = hub.start("contact-sync")
    wait_until(lambda: [l for l in flush_lines(restarted) if "synced=1" in l], timeout=20,
               what="the write sent again")
    wait_until(lambda: len(peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/batch/upsert",
                                         "POST")) == 2, timeout=10, what="both upserts logged")
    contacts = hubspot_contacts_with(hub, bird_id)
    assert len(contacts) == 1
    assert contacts[0]["properties"]["firstname"] == "Pedro"
    synced = wait_until(lambda: bus_messages(hub, "contact.synced"), what="contact.synced")
    assert len(synced) == 1 and synced[0]["data"]["hubspot_contact_id"] == contacts[0]["id"]
    # acked once queued: nothing was redelivered (one log file for both)
    assert len(handled_lines(restarted)) == 1


def test_rate_limited_hubspot_update_lands_after_retry_after(hub):
    sync = start_stack(hub)
    bird_id = seed_bird_contact(hub, "Rosa Luna", "+5215577778888")
    peer_fault(hub, "hubspot", status=429, retry_after=2, count=1,
               path_prefix="/crm/v3/objects/contacts/batch/upsert")
    post_bird_webhook(hub, inbound_message(bird_id, "+5215577778888"))

    contacts = wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=20,
                          what="the contact after the 429")
    assert len(contacts) == 1
    upserts = peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/batch/upsert", "POST")
    assert [u["status"] for u in upserts] == [429, 200]
    waited_ms = upserts[1]["time"] - upserts[0]["time"]
    assert waited_ms >= 1900, "Retry-After: 2 not honoured (retried after %d ms)" % waited_ms
    # the batch kept the write for a later flush, which sent it
    deferred = [l for l in sync.log_text().splitlines() if "event=batch_deferred" in l]
    assert deferred and "count=1 status=429" in deferred[0], deferred
    wait_until(lambda: [l for l in flush_lines(sync) if "synced=1" in l],
               what="the flush that sent it")


def test_own_write_echoed_by_hubspot_causes_no_write_back(hub):
    sync = start_stack(hub)
    # The stand-in HubSpot now sends signed contact webhooks for every change,
    # as HubSpot does for our own writes.
    status, _ = http("POST", hub.peers["hubspot"] + "/__peer/config",
                     {"webhook_url": hub.gateway_url + "/v1/webhooks/hubspot",
                      "app_secret": hub.HUBSPOT_SECRET})
    assert status == 200
    bird_id = seed_bird_contact(hub, "Elena Garro", "+5215566667777", "elena@example.com")
    post_bird_webhook(hub, inbound_message(bird_id, "+5215566667777"))

    wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=15, what="the HubSpot contact")
    wait_until(lambda: [l for l in handled_lines(sync) if "topic=webhook.hubspot.contact" in l],
               timeout=15, what="the echoed HubSpot webhooks to be handled")
    wait_until(lambda: peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE,
                                     "PATCH"), timeout=15, what="the link onto the Bird contact")
    time.sleep(1.0)
    deliveries = peer_state(hub, "hubspot")["webhook_deliveries"]
    assert deliveries and all(200 <= (d["status"] or 0) < 300 for d in deliveries), deliveries
    echoes = [l for l in handled_lines(sync) if "topic=webhook.hubspot.contact" in l]
    assert echoes and all("outcome=skipped" in l or "outcome=ignored" in l for l in echoes), echoes
    # The only Bird write is the link (HubSpot's id onto the Bird contact),
    # made by the sync itself; the echoes add none.
    hubspot_id = hubspot_contacts_with(hub, bird_id)[0]["id"]
    writes = peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE, "PATCH")
    assert [w["body"] for w in writes] == [{"attributes": {"hubspot_contact_id": hubspot_id}}]


def test_hubspot_contact_without_phone_or_email_is_dead_lettered(hub):
    sync = start_stack(hub)
    hubspot_id = seed_hubspot_contact(hub, {"firstname": "Sin", "lastname": "Datos"})
    post_hubspot_webhook(hub, [hubspot_event(hubspot_id, event_id=9)])
    line = wait_until(lambda: [l for l in handled_lines(sync) if "outcome=rejected" in l],
                      timeout=15, what="the rejection")[0]
    assert "code=2004" in line and "no phone and no email" in line
    assert peer_requests(hub, "bird", "/workspaces/%s/contacts" % hub.WORKSPACE, "PATCH") == []
    assert sync.alive()
    dead = wait_until(lambda: bus_messages(hub, "dlq.contact-sync", quiet=0.5), timeout=10,
                      what="the dead letter")
    assert len(dead) == 1
    assert dead[0]["data"]["group"] == "contact-sync"
    assert dead[0]["data"]["reason_code"] == 2004
    assert "no phone and no email" in dead[0]["data"]["attempts"][-1]["reason"]
    assert dead[0]["data"]["message"]["type"] == "webhook.hubspot.contact.creation"


def test_conversation_started_on_the_bus_creates_hubspot_contact(hub):
    sync = start_stack(hub)
    bird_id = seed_bird_contact(hub, "Juan Preciado", "+5215512121212", "juan@example.com")
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-flow")
    try:
        reply = bus.publish(envelope("conv-started-1", "conversation.started",
                                     subject="contact:" + bird_id, source="bird-flow",
                                     data={"conversation_id": "conv-1", "bird_contact_id": bird_id,
                                           "channel": "whatsapp", "agent_type": "qualifier"}))
        assert reply["cmd"] == "PUBACK"
    finally:
        bus.close()
    contacts = wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=15,
                          what="the HubSpot contact")
    assert contacts[0]["properties"]["email"] == "juan@example.com"
    assert contacts[0]["properties"]["lastname"] == "Preciado"
    wait_until(lambda: [l for l in handled_lines(sync, "queued")
                        if "topic=conversation.started" in l], what="the handled line")
    wait_until(lambda: [m for m in bus_messages(hub, "contact.synced", quiet=0.2)
                        if m["data"]["bird_contact_id"] == bird_id], what="contact.synced")


def test_a_message_redacted_by_an_erase_is_acked_untouched(hub):
    """A retry or a replay of a message that an erase has redacted (its data
    is {"zhub_erased": true}) has nothing left to act on: acked, logged as
    erased, never dead-lettered, no call to a peer."""
    sync = start_stack(hub)
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-erased")
    try:
        reply = bus.publish(envelope("conv-erased-1", "conversation.started",
                                     subject="erased", source="bird-flow",
                                     data={"zhub_erased": True}))
        assert reply["cmd"] == "PUBACK"
    finally:
        bus.close()
    line = wait_until(lambda: [l for l in handled_lines(sync, "erased")
                               if "id=conv-erased-1" in l], timeout=15, what="the erased line")[0]
    assert "topic=conversation.started" in line
    assert bus_messages(hub, "dlq.contact-sync", quiet=0.5) == []
    assert peer_requests(hub, "hubspot", "/crm/v3/objects/contacts", "POST") == []


def test_sigterm_mid_call_finishes_the_message_then_exits(hub):
    sync = start_stack(hub, **UNBATCHED)
    bird_id = seed_bird_contact(hub, "Susana San Juan", "+5215534343434")
    peer_fault(hub, "hubspot", delay_ms=1500, count=1,
               path_prefix="/crm/v3/objects/contacts/batch/upsert")
    post_bird_webhook(hub, inbound_message(bird_id, "+5215534343434"))
    wait_until(lambda: "bird get contact" in sync.log_text(), timeout=10,
               what="contact-sync to read the Bird contact")
    assert sync.stop() == 0   # SIGTERM while the upsert is in flight
    line = [l for l in handled_lines(sync) if bird_id in l]
    assert len(line) == 1 and "outcome=synced" in line[0], sync.log_tail()
    assert "event=stopping" in sync.log_text()
    assert len(hubspot_contacts_with(hub, bird_id)) == 1
    # It was acked: a new member gets nothing to redo.
    restarted = hub.start("contact-sync", extra_env=UNBATCHED)
    time.sleep(1.5)
    assert len([l for l in handled_lines(restarted) if bird_id in l]) == 1


def test_contact_sync_idle_sigterm_exits_0(hub):
    sync = start_stack(hub)
    assert "event=ready group=contact-sync" in sync.log_text()
    assert sync.stop() == 0
