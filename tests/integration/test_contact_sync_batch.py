"""contact-sync's batched HubSpot writes as deployed: the batch window is on
by default, and a contact HubSpot refuses inside a batch (its 207
Multi-Status) is settled on its own — sent again alone, then dead-lettered
with HubSpot's error for it — while the rest of its batch lands.

Real gateway, broker and contact-sync against the stand-in HubSpot and
Bird; what is checked is what reached HubSpot (its state and the calls it
saw), the dead letters on the bus and contact-sync's log lines.
"""
import json
import subprocess

from harness import BINARIES, wait_until
from test_contact_sync import (BIRD_AUTH, bus_messages, handled_lines, http, peer_requests,
                               peer_state, post_bird_webhook)

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
# a Bird attribute onto HubSpot's lifecyclestage, an enumeration: a value
# outside its options is refused by HubSpot (INVALID_OPTION), not by zhub
MAPPING = {"contact": {"fields": [
    {"bird": "attributes.stage", "hubspot": "lifecyclestage", "direction": "to_hubspot"}]}}


def zhub_json(hub, *args):
    out = subprocess.run([BINARIES["zhub"], *args, "--json"], env=hub.env, capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr + out.stdout
    return json.loads(out.stdout)


def start_stack(hub, tmp_path=None, **env):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    if tmp_path is not None:
        mapping = tmp_path / "mapping.json"
        mapping.write_text(json.dumps(MAPPING))
        env["ZHUB_MAPPING_FILE"] = str(mapping)
    return hub.start("contact-sync", extra_env=env)


def new_bird_contact(hub, name, phone, stage=None):
    body = {"displayName": name, "identifiers": [{"key": "phonenumber", "value": phone}]}
    if stage:
        body["attributes"] = {"stage": stage}
    status, contact = http("POST", "%s/workspaces/%s/contacts" % (hub.peers["bird"],
                                                                   hub.WORKSPACE), body, BIRD_AUTH)
    assert status == 201, contact
    return contact


def contact_webhook(hub, contact):
    """Bird's contact.updated with the whole record, as Bird sends it."""
    status, _ = post_bird_webhook(hub, {"service": "contacts", "event": "contact.updated",
                                        "payload": contact})
    assert 200 <= status < 300


def in_hubspot(hub, bird_id):
    found = [c for c in peer_state(hub, "hubspot")["contacts"]
             if c["properties"].get("bird_contact_id") == bird_id]
    return found[0] if found else None


def test_contact_sync_batches_hubspot_writes_without_being_told(hub):
    """No ZHUB_HUBSPOT_BATCH_WINDOW anywhere: 30 contacts waiting on the bus
    reach HubSpot in batch calls, not in 30 calls."""
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    hub.start("gateway")
    hub.env.pop("ZHUB_HUBSPOT_BATCH_WINDOW", None)
    contacts = [new_bird_contact(hub, "Lote %d" % i, "+52155%08d" % i) for i in range(30)]
    for contact in contacts:
        contact_webhook(hub, contact)
    # they wait on the bus; contact-sync starts with its own defaults
    sync = hub.start("contact-sync")
    wait_until(lambda: all(in_hubspot(hub, c["id"]) for c in contacts), timeout=20,
               what="the 30 contacts in HubSpot")
    upserts = peer_requests(hub, "hubspot", UPSERT, "POST")
    sizes = [len(u["body"]["inputs"]) for u in upserts]
    # how many share a call depends on how fast contact-sync reads them
    # against its 200 ms window; that any do, and that fewer calls than
    # contacts were made, does not
    assert sum(sizes) == 30 and len(upserts) < 30, sizes
    assert max(sizes) > 1, sizes
    assert "hubspot_batch_window_ms=200" in sync.log_text()


def test_a_contact_hubspot_refuses_in_a_batch_is_dead_lettered_alone(hub, tmp_path):
    # a window longer than the posting takes: the three share a batch
    sync = start_stack(hub, tmp_path, ZHUB_HUBSPOT_BATCH_WINDOW="3s")
    hub.start("dead-letter")
    good = [new_bird_contact(hub, "Ana Uno", "+5215510000001", "lead"),
            new_bird_contact(hub, "Bo Dos", "+5215510000002", "lead")]
    bad = new_bird_contact(hub, "Cy Tres", "+5215510000003", "sleepy")
    for contact in (good[0], bad, good[1]):
        contact_webhook(hub, contact)

    dead = wait_until(lambda: bus_messages(hub, "dlq.contact-sync", quiet=0.5), timeout=20,
                      what="the dead letter of the refused contact")
    wait_until(lambda: all(in_hubspot(hub, c["id"]) for c in good), timeout=20,
               what="the two valid contacts in HubSpot")
    assert in_hubspot(hub, bad["id"]) is None
    # HubSpot answered the batch with a 207, and the refused one was sent alone
    upserts = peer_requests(hub, "hubspot", UPSERT, "POST")
    assert [len(u["body"]["inputs"]) for u in upserts][:2] == [3, 1], upserts
    assert upserts[0]["status"] == 207
    assert upserts[1]["body"]["inputs"][0]["id"] == bad["id"] and upserts[1]["status"] == 207
    # one dead letter, for that contact only, with HubSpot's error for it
    assert len(dead) == 1
    letter = dead[0]
    assert letter["type"] == "dlq.contact-sync" and letter["source"] == "zhub/contact-sync"
    assert letter["subject"] == "contact:" + bad["id"]
    assert letter["data"]["group"] == "contact-sync" and letter["data"]["cause"] == "terminal"
    assert letter["data"]["reason_code"] == 400
    reason = letter["data"]["attempts"][-1]["reason"]
    assert "VALIDATION_ERROR" in reason and "sleepy" in reason, reason
    assert letter["data"]["message"]["type"] == "webhook.bird.contact.updated"
    assert letter["data"]["message"]["data"]["payload"]["id"] == bad["id"]
    # kept by zhub-dead-letter like any other: what `zhub dlq list` shows
    rows = wait_until(lambda: zhub_json(hub, "dlq", "list"), what="the letter in the store")
    assert len(rows) == 1 and rows[0]["group"] == "contact-sync", rows
    assert "VALIDATION_ERROR" in rows[0]["reason"], rows
    refused = [l for l in sync.log_text().splitlines() if "event=contact_refused" in l]
    assert len(refused) == 1 and "bird=" + bad["id"] in refused[0]
    synced = {m["data"]["bird_contact_id"] for m in bus_messages(hub, "contact.synced")}
    assert synced == {c["id"] for c in good}

    # Bird's record is fixed: the whole contact reaches HubSpot, name and
    # phone included (nothing of the refused write passes for written)
    status, fixed = http("PATCH", "%s/workspaces/%s/contacts/%s" % (
        hub.peers["bird"], hub.WORKSPACE, bad["id"]), {"attributes": {"stage": "lead"}},
        BIRD_AUTH)
    assert status == 200
    contact_webhook(hub, fixed)
    landed = wait_until(lambda: in_hubspot(hub, bad["id"]), timeout=20,
                        what="the fixed contact in HubSpot")
    props = landed["properties"]
    assert props["firstname"] == "Cy" and props["phone"] == "+525510000003"
    assert props["lifecyclestage"] == "lead"


def test_an_unbatched_write_refused_in_a_207_carries_hubspots_error(hub, tmp_path):
    sync = start_stack(hub, tmp_path, ZHUB_HUBSPOT_BATCH_WINDOW="0")
    bad = new_bird_contact(hub, "Cy Tres", "+5215510000003", "sleepy")
    contact_webhook(hub, bad)
    line = wait_until(lambda: handled_lines(sync, "rejected"), timeout=15,
                      what="the rejection")[0]
    assert "code=400" in line and "VALIDATION_ERROR" in line, line
    dead = wait_until(lambda: bus_messages(hub, "dlq.contact-sync", quiet=0.5), timeout=10,
                      what="the dead letter")
    assert dead[0]["data"]["reason_code"] == 400
    assert "sleepy" in dead[0]["data"]["attempts"][-1]["reason"]


def audit(hub, bird_id):
    return zhub_json(hub, "audit", "contact", bird_id)["entries"]


def test_a_batched_write_is_in_the_audit_trail(hub):
    """With the batch window on (the default), the field decisions of a
    Bird -> HubSpot write reach `zhub audit contact` once HubSpot holds the
    write, as they do when each change is written at once."""
    start_stack(hub)
    contact = new_bird_contact(hub, "Ana Uno", "+5215510000001")
    contact_webhook(hub, contact)
    wait_until(lambda: in_hubspot(hub, contact["id"]), timeout=20, what="the contact in HubSpot")
    entries = wait_until(lambda: [e for e in audit(hub, contact["id"])
                                  if e["decision"] == "applied"], timeout=10,
                         what="the applied decisions in the audit trail")
    assert {e["field"] for e in entries} == {"name", "phone"}, entries
    assert all(e["winner"] == "bird" and e["event_id"].startswith("bird:") for e in entries)
    synced = bus_messages(hub, "contact.synced")
    assert [m["data"]["bird_contact_id"] for m in synced] == [contact["id"]]
