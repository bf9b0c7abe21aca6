"""contact-sync's part of a GDPR erase, end to end: real broker, gateway and
contact-sync against the stand-in HubSpot and Bird. A contact is synced
the ordinary way (a signed Bird webhook), then erased by `contact.erase`
on the bus (what `zhub erase contact` publishes) or by HubSpot's
`contact.privacyDeletion` webhook. Checked, as a user would: the
`contact.forget` and `contact.forgotten` messages (read live by a consumer
group, before the broker redacts them), the contacts left on the
stand-ins, the calls they received, `zhub audit`, and the bytes of
contact-sync's LMDB file once it has been compacted.
"""
import json
import os
import subprocess
import uuid

from harness import BUILD_DIR, wait_until
from test_contact_sync import (bird_contact, handled_lines, http, hubspot_contacts_with,
                               inbound_message, peer_fault, peer_requests, peer_state,
                               post_bird_webhook, seed_bird_contact)
from zhub_bus import Bus, envelope

ZHUB = os.path.join(BUILD_DIR, "cli", "zhub")
PHONE, PHONE_DIGITS = "+5215512345678", "5512345678"  # the digits every spelling shares
EMAIL = "ana@example.com"


def start_stack(hub, webhooks=False, **env):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    if webhooks:
        status, _ = http("POST", hub.peers["hubspot"] + "/__peer/config",
                         {"webhook_url": hub.gateway_url + "/v1/webhooks/hubspot",
                          "app_secret": hub.HUBSPOT_SECRET})
        assert status == 200
    return hub.start("contact-sync", extra_env=env)


def synced_ana(hub):
    """Ana, created in Bird and synced to HubSpot. Returns (bird id, hubspot id)."""
    bird_id = seed_bird_contact(hub, "Ana Paz", PHONE, "Ana@Example.com")
    status, _ = post_bird_webhook(hub, inbound_message(bird_id, PHONE))
    assert 200 <= status < 300
    found = wait_until(lambda: hubspot_contacts_with(hub, bird_id), timeout=15,
                       what="Ana in HubSpot")
    return bird_id, found[0]["id"]


class Observer:
    """A consumer group on the erase's messages, joined before the erase:
    the broker redacts contact.forget once every group has processed it, so
    it must be read live, not from the log afterwards."""

    def __init__(self, hub, topics=("contact.forget", "contact.forgotten", "contact.erased")):
        self.bus = Bus(hub.env["ZHUB_BROKER"], "pytest-erase-observer")
        self.bus.join("erase-observer-%s" % uuid.uuid4().hex[:8], list(topics), credit=16)
        self.seen = []

    def wait(self, request, types, timeout=20.0):
        """{type: message} once every type arrived with subject erase:<request>."""
        def arrived():
            delivery = self.bus.recv(0.5)
            if delivery is not None:
                self.seen.append(delivery["message"])
                self.bus.ack(delivery["tag"])
            got = {m["type"]: m for m in self.seen if m.get("subject") == "erase:" + request}
            return got if all(t in got for t in types) else None
        return wait_until(arrived, timeout=timeout, interval=0,
                          what="%s for request %s" % (", ".join(types), request))

    def close(self):
        self.bus.close()


def publish_erase(hub, request, identifier, upstream=False):
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-cli")
    try:
        reply = bus.publish(envelope("erase:" + request, "contact.erase", subject="erase:" + request,
                                     source="zhub/cli",
                                     data={"request": request, "identifier": identifier,
                                           "upstream": upstream}))
        assert reply["cmd"] == "PUBACK", reply
    finally:
        bus.close()


def store_bytes(hub):
    with open(os.path.join(hub.data_dir, "contact-sync", "data.mdb"), "rb") as f:
        return f.read().lower()


def store_forgot_ana(hub):
    data = store_bytes(hub)
    return PHONE_DIGITS.encode() not in data and EMAIL.encode() not in data


def zhub_audit(hub, kind, key):
    out = subprocess.run([ZHUB, "audit", kind, key], env=hub.env, capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout


# ----------------------------------------------------------------- tests

def test_erase_by_phone_forgets_the_person_locally(hub):
    sync = start_stack(hub)
    bird_id, hubspot_id = synced_ana(hub)
    # what the erase must remove: HubSpot has Ana before contact-sync's store
    # commits her, so wait for the commit rather than read at once
    wait_until(lambda: PHONE_DIGITS.encode() in store_bytes(hub), what="Ana in the store")
    observer = Observer(hub)
    try:
        publish_erase(hub, "req-local", PHONE)
        got = observer.wait("req-local", ["contact.forget", "contact.forgotten"])
        forget, forgotten = got["contact.forget"], got["contact.forgotten"]
        assert forget["id"] == "forget:req-local" and forget["source"] == "zhub/contact-sync"
        data = forget["data"]
        assert data["request"] == "req-local"
        assert data["bird_contact_id"] == bird_id
        assert data["hubspot_contact_id"] == hubspot_id
        assert data["phone"] == "+525512345678" and data["email"] == EMAIL
        for identifier in (PHONE, PHONE[1:], "+525512345678", "525512345678", EMAIL, bird_id,
                           hubspot_id):
            assert identifier in data["identifiers"], identifier
        assert len(set(data["identifiers"])) == len(data["identifiers"])
        assert forgotten["id"] == "forgotten:contact-sync:req-local"
        assert forgotten["data"]["actor"] == "contact-sync"
        assert forgotten["data"]["removed"] >= 2  # the state and the id map at least
        # no other group listens to contact.forget here: the broker is done at once
        erased = observer.wait("req-local", ["contact.erased"])["contact.erased"]
        assert erased["data"]["request"] == "req-local"
    finally:
        observer.close()

    # local only: the person is still in HubSpot and Bird
    assert hubspot_contacts_with(hub, bird_id)
    assert bird_contact(hub, bird_id) is not None
    assert peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/gdpr-delete") == []
    assert peer_requests(hub, "bird", method="DELETE") == []

    # compacted before the erase was acked: no spelling of the phone, no e-mail
    wait_until(lambda: store_forgot_ana(hub), what="contact-sync's store without Ana's bytes")
    line = wait_until(lambda: handled_lines(sync, "erased"), what="the erase's log line")[0]
    assert "request=req-local" in line and "contacts=1" in line
    assert PHONE_DIGITS not in line and "example.com" not in line

    # the audit trail: nothing under Ana's id, tombstones under the request
    assert "no audit entries" in zhub_audit(hub, "contact", bird_id)
    trail = zhub_audit(hub, "erase", "req-local")
    assert "decision=erased" in trail and "erased=req-local" in trail
    assert "[erased] -> [erased]" in trail
    assert PHONE_DIGITS not in trail and "example.com" not in trail and bird_id not in trail


def test_upstream_erase_deletes_in_hubspot_and_bird_after_a_retry(hub):
    start_stack(hub, ZHUB_BACKOFF="200ms")
    bird_id, hubspot_id = synced_ana(hub)
    # Bird fails once: the erase is retried as a whole; HubSpot's second
    # GDPR delete answers 404, which counts as done.
    peer_fault(hub, "bird", status=503, count=1, method="DELETE")
    observer = Observer(hub)
    try:
        publish_erase(hub, "req-up", "ANA@example.com", upstream=True)
        got = observer.wait("req-up", ["contact.forget", "contact.forgotten"])
    finally:
        observer.close()
    assert got["contact.forget"]["data"]["bird_contact_id"] == bird_id
    assert got["contact.forget"]["data"]["hubspot_contact_id"] == hubspot_id
    assert "ANA@example.com" in got["contact.forget"]["data"]["identifiers"]

    assert hubspot_contacts_with(hub, bird_id) == []
    assert not [c for c in peer_state(hub, "hubspot")["contacts"]
                if c["properties"].get("email") == EMAIL]
    assert bird_contact(hub, bird_id) is None
    deletes = peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/gdpr-delete", "POST")
    assert [d["body"] for d in deletes] == [{"objectId": hubspot_id}] * 2
    assert [d["status"] for d in deletes] == [204, 404]
    bird_deletes = peer_requests(hub, "bird", "/workspaces/%s/contacts/%s" % (hub.WORKSPACE,
                                                                               bird_id), "DELETE")
    assert [d["status"] for d in bird_deletes] == [503, 204]
    assert deletes[0]["headers"]["authorization"] == "Bearer test-hubspot-token"
    wait_until(lambda: store_forgot_ana(hub), what="contact-sync's store without Ana's bytes")


def test_hubspot_privacy_deletion_erases_the_person(hub):
    sync = start_stack(hub, webhooks=True)
    bird_id, hubspot_id = synced_ana(hub)
    wait_until(lambda: (bird_contact(hub, bird_id) or {}).get("attributes", {})
               .get("hubspot_contact_id") == hubspot_id, what="the HubSpot id on the Bird contact")
    observer = Observer(hub, ("contact.forget", "contact.forgotten"))
    try:
        # Someone GDPR-deletes Ana in HubSpot: HubSpot sends contact.deletion
        # and contact.privacyDeletion (deletion first here: contact-sync
        # unlinks, then the privacy erase still finds her by the audit trail).
        status, body = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts/gdpr-delete",
                            {"objectId": hubspot_id},
                            {"Authorization": "Bearer test-hubspot-token"})
        assert status == 204, body
        request = "hubspot-privacy-" + hubspot_id
        got = observer.wait(request, ["contact.forget", "contact.forgotten"])
    finally:
        observer.close()
    data = got["contact.forget"]["data"]
    assert data["request"] == request
    assert data["bird_contact_id"] == bird_id and data["hubspot_contact_id"] == hubspot_id
    assert PHONE in data["identifiers"] and EMAIL in data["identifiers"]
    assert got["contact.forgotten"]["data"]["removed"] >= 1
    unlinked = [l for l in handled_lines(sync) if "webhook.hubspot.contact.deletion" in l]
    assert unlinked and "outcome=unlinked" in unlinked[0]

    # HubSpot's own erase asks nothing of Bird: the Bird contact stays
    assert bird_contact(hub, bird_id) is not None
    assert peer_requests(hub, "bird", method="DELETE") == []
    wait_until(lambda: store_forgot_ana(hub), what="contact-sync's store without Ana's bytes")
    trail = zhub_audit(hub, "erase", request)
    assert "decision=deleted_in_hubspot" in trail and "decision=erased" in trail
    assert PHONE_DIGITS not in trail and "example.com" not in trail


def test_erase_of_someone_unknown_still_answers(hub):
    start_stack(hub)
    observer = Observer(hub, ("contact.forget", "contact.forgotten"))
    try:
        publish_erase(hub, "req-nobody", "+34 612 34 56 78")
        got = observer.wait("req-nobody", ["contact.forget", "contact.forgotten"])
    finally:
        observer.close()
    data = got["contact.forget"]["data"]
    assert sorted(data["identifiers"]) == sorted(["+34 612 34 56 78", "+34612345678",
                                                  "34612345678"])
    assert "bird_contact_id" not in data and "hubspot_contact_id" not in data
    assert got["contact.forgotten"]["data"]["removed"] == 0
