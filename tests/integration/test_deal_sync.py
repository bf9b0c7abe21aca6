"""zhub-deal-sync end to end: the real broker and deal-sync against the
stand-in HubSpot and Bird. AI events and HubSpot deal webhooks are put on
the bus exactly as the gateway and the Bird flows publish them; what is
checked is what a user would see: the deal in HubSpot (its stage, its
properties, its association), the Bird contact's attributes, the
deal.stage_changed events, and the audit trail (`zhub audit contact`).
"""
import json
import os
import subprocess
import time
import uuid

from harness import BUILD_DIR, wait_until
from test_contact_sync import (BIRD_AUTH, HUBSPOT_AUTH, bus_messages, handled_lines, http,
                               peer_fault, peer_requests, peer_state)
from zhub_bus import Bus, envelope

ZHUB = os.path.join(BUILD_DIR, "cli", "zhub")


def start_stack(hub, replicas=1, hubspot_args=(), **env):
    hub.start_peer("hubspot", *hubspot_args)
    hub.start_peer("bird")
    hub.start("broker")
    return [hub.start("deal-sync", extra_env=env) for _ in range(replicas)]


def seed_contact(hub, name="Ana López", phone="+5215512345678"):
    """A Bird contact and its HubSpot twin (what contact-sync leaves
    behind). Returns (bird id, hubspot id)."""
    status, bird = http("POST", "%s/workspaces/%s/contacts" % (hub.peers["bird"], hub.WORKSPACE),
                        {"displayName": name,
                         "identifiers": [{"key": "phonenumber", "value": phone}]}, BIRD_AUTH)
    assert status == 201, bird
    return bird["id"], seed_hubspot_twin(hub, bird["id"])


def seed_hubspot_twin(hub, bird_id):
    status, contact = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/contacts",
                           {"properties": {"firstname": "Ana", "bird_contact_id": bird_id}},
                           HUBSPOT_AUTH)
    assert status == 201, contact
    return contact["id"]


def publish(hub, type_, bird_id, data, time_ms=None, id_=None):
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-deal")
    try:
        msg = envelope(id_ or str(uuid.uuid4()), type_, subject="contact:%s" % bird_id, data=data,
                       source="bird", time_ms=time_ms)
        reply = bus.publish(msg)
        assert reply["cmd"] == "PUBACK", reply
        return msg
    finally:
        bus.close()


def stage_changed(hub, bird_id, stage, time_ms=None, **extra):
    data = {"bird_contact_id": bird_id, "conversation_id": "conv-1", "stage": stage,
            "agent_type": "qualifier"}
    data.update(extra)
    return publish(hub, "conversation.stage_changed", bird_id, data, time_ms)


def deals(hub):
    return peer_state(hub, "hubspot")["deals"]


def deal_of(hub, bird_id):
    found = [d for d in deals(hub) if d["properties"].get("zhub_deal_key") == bird_id + "/default"]
    assert len(found) <= 1, found
    return found[0] if found else None


def wait_stage(hub, bird_id, stage, timeout=10.0):
    wait_until(lambda: (deal_of(hub, bird_id) or {}).get("properties", {}).get("dealstage")
               == stage, timeout, what="deal of %s in stage %s" % (bird_id, stage))
    return deal_of(hub, bird_id)


def wait_handled(proc, count, outcome=None, timeout=10.0):
    wait_until(lambda: len(handled_lines(proc, outcome)) >= count, timeout,
               what="%d handled lines (%s)" % (count, outcome))


def ui_edit_stage(hub, deal_id, stage):
    status, body = http("POST", hub.peers["hubspot"] + "/__peer/ui_edit",
                        {"kind": "deals", "id": deal_id, "properties": {"dealstage": stage}})
    assert status == 200, body


def crm_webhook(hub, deal_id, stage, source="CRM_UI", occurred_at=None, event_id=None):
    """webhook.hubspot.deal.propertyChange as the gateway publishes it."""
    event_id = event_id or int(time.time() * 1000) % 10**9
    data = {"eventId": event_id, "subscriptionId": 1003, "portalId": 62515, "appId": 54321,
            "occurredAt": occurred_at or int(time.time() * 1000),
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0,
            "objectId": int(deal_id), "changeSource": source, "propertyName": "dealstage",
            "propertyValue": stage}
    bus = Bus(hub.env["ZHUB_BROKER"], "pytest-gateway")
    try:
        msg = envelope("hubspot:62515:1003:%s:%s" % (event_id, deal_id),
                       "webhook.hubspot.deal.propertyChange", subject="hubspot:deal:%s" % deal_id,
                       data=data, source="hubspot", time_ms=data["occurredAt"])
        assert bus.publish(msg)["cmd"] == "PUBACK"
    finally:
        bus.close()


def audit(hub, bird_id):
    out = subprocess.run([ZHUB, "audit", "contact", bird_id, "--json"], env=hub.env,
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["entries"]


# ----------------------------------------------------------------- tests

def test_ai_events_create_one_associated_deal_and_move_it_forward(hub):
    sync, = start_stack(hub)
    bird_id, contact_id = seed_contact(hub)
    publish(hub, "contact.synced", bird_id, {"bird_contact_id": bird_id,
                                             "hubspot_contact_id": contact_id,
                                             "changed": [], "direction": "bird_to_hubspot"})
    stage_changed(hub, bird_id, "lead", qualification_score=35)
    deal = wait_stage(hub, bird_id, "qualifiedtobuy")
    props = deal["properties"]
    assert props["pipeline"] == "default" and props["ai_agent_type"] == "qualifier"
    assert props["conversation_id"] == "conv-1" and props["qualification_score"] == "35"
    assert props["last_ai_interaction"]
    # every property value went out as a JSON string (HubSpot's contract)
    assert peer_state(hub, "hubspot")["contract_violations"] == []
    upsert = peer_requests(hub, "hubspot", "/crm/v3/objects/deals/batch/upsert", "POST")[0]
    assert upsert["body"]["inputs"][0]["properties"]["qualification_score"] == "35"
    # associated with the contact (v4 default association, both directions)
    link = {"from": {"type": "deals", "id": deal["id"]}, "to": {"type": "contacts",
            "id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                          "associationTypeId": 3}]}
    wait_until(lambda: link in peer_state(hub, "hubspot")["associations"],
               what="the deal's association with the contact")
    # learned from contact.synced: never asked HubSpot for the contact
    assert not peer_requests(hub, "hubspot", "/crm/v3/objects/contacts/", "GET")

    publish(hub, "qualification.completed", bird_id,
            {"bird_contact_id": bird_id, "conversation_id": "conv-1", "score": 88,
             "qualified": True, "property_interest": "Torre Reforma 4B"})
    deal = wait_stage(hub, bird_id, "appointmentscheduled")
    assert deal["properties"]["property_interest"] == "Torre Reforma 4B"
    publish(hub, "tour.scheduled", bird_id,
            {"bird_contact_id": bird_id, "booking_id": "bk-1", "start": "2030-05-01T17:00:00Z",
             "end": "2030-05-01T17:30:00Z", "platform": "google"})
    wait_until(lambda: deal_of(hub, bird_id)["properties"].get("tour_scheduled_date")
               == "2030-05-01T17:00:00.000Z", what="tour date on the deal")
    stage_changed(hub, bird_id, "application")
    wait_stage(hub, bird_id, "contractsent")
    # backwards: not written; the deal stays where it is
    stage_changed(hub, bird_id, "qualified")
    wait_handled(sync, 6)
    assert deal_of(hub, bird_id)["properties"]["dealstage"] == "contractsent"
    assert "skipped=not_forward" in handled_lines(sync)[-1]
    # to closed: always allowed
    stage_changed(hub, bird_id, "lease_signed")
    wait_stage(hub, bird_id, "closedwon")
    assert len(deals(hub)) == 1

    moved = [m["data"] for m in bus_messages(hub, "deal.stage_changed")]
    assert [(m["stage"], m["by"]) for m in moved] == [
        ("qualifiedtobuy", "ai"), ("appointmentscheduled", "ai"), ("contractsent", "ai"),
        ("closedwon", "ai")]
    assert all(m["hubspot_deal_id"] == deal["id"] and m["hubspot_contact_id"] == contact_id
               and m["bird_contact_id"] == bird_id for m in moved)


def test_deal_event_waits_for_its_contact_then_lands_once(hub):
    sync, = start_stack(hub, ZHUB_BACKOFF="200ms", ZHUB_MAX_DELIVERIES="10")
    status, bird = http("POST", "%s/workspaces/%s/contacts" % (hub.peers["bird"], hub.WORKSPACE),
                        {"displayName": "Luis", "identifiers": [
                            {"key": "phonenumber", "value": "+5215599998888"}]}, BIRD_AUTH)
    bird_id = bird["id"]
    stage_changed(hub, bird_id, "qualified")
    wait_until(lambda: any("code=1005" in l or "not synced" in l
                           for l in sync.log_text().splitlines()),
               what="deal-sync to wait for the contact")
    assert deals(hub) == []
    seed_hubspot_twin(hub, bird_id)  # contact-sync catches up
    wait_stage(hub, bird_id, "appointmentscheduled", timeout=15)
    time.sleep(0.5)
    assert len(deals(hub)) == 1
    assert len(handled_lines(sync, "moved")) == 1


def test_newer_human_stage_wins_and_is_audited(hub):
    sync, = start_stack(hub)
    bird_id, _ = seed_contact(hub)
    stage_changed(hub, bird_id, "application")
    deal = wait_stage(hub, bird_id, "contractsent")
    before_edit = int(time.time() * 1000)
    time.sleep(0.05)
    ui_edit_stage(hub, deal["id"], "qualifiedtobuy")  # a person moves it back
    # an AI event from before the person's edit: the person wins
    stage_changed(hub, bird_id, "lease_signed", time_ms=before_edit)
    wait_handled(sync, 2)
    assert "skipped=human_newer" in handled_lines(sync)[-1]
    assert deal_of(hub, bird_id)["properties"]["dealstage"] == "qualifiedtobuy"
    entries = audit(hub, bird_id)
    skipped = [e for e in entries if e["decision"] == "human_newer"]
    assert len(skipped) == 1
    assert skipped[0]["winner"] == "hubspot" and skipped[0]["old"] == "qualifiedtobuy"
    assert skipped[0]["new"] == "closedwon" and skipped[0]["hubspot_source"] == "CRM_UI"
    assert skipped[0]["ai_time"] < skipped[0]["hubspot_time"]
    # a newer AI event moves it again
    stage_changed(hub, bird_id, "lease_signed")
    wait_stage(hub, bird_id, "closedwon")


def test_person_stage_change_is_published_and_written_to_bird(hub):
    sync, = start_stack(hub)
    bird_id, contact_id = seed_contact(hub)
    stage_changed(hub, bird_id, "lead")
    deal = wait_stage(hub, bird_id, "qualifiedtobuy")
    # our own write coming back is not a person's change
    crm_webhook(hub, deal["id"], "qualifiedtobuy", source="INTEGRATION")
    wait_handled(sync, 1, "skipped")
    ui_edit_stage(hub, deal["id"], "decisionmakerboughtin")
    crm_webhook(hub, deal["id"], "decisionmakerboughtin")

    def bird_attributes():
        for contact in peer_state(hub, "bird")["contacts"]:
            if contact["id"] == bird_id:
                return contact["attributes"]
        return {}
    wait_until(lambda: bird_attributes().get("hubspot_deal_stage") == "decisionmakerboughtin",
               what="the stage on the Bird contact")
    assert bird_attributes()["hubspot_deal_id"] == deal["id"]
    assert bird_attributes()["ai_deal_stage"] == "tour_completed"
    moved = [m["data"] for m in bus_messages(hub, "deal.stage_changed")]
    assert moved[-1] == {"hubspot_deal_id": deal["id"], "hubspot_contact_id": contact_id,
                         "bird_contact_id": bird_id, "stage": "decisionmakerboughtin",
                         "ai_stage": "tour_completed", "by": "crm",
                         "cause_id": moved[-1]["cause_id"]}
    # a person's change on a deal this replica never saw: found by its key
    ui_edit_stage(hub, deal["id"], "presentationscheduled")
    other = hub.start("deal-sync", extra_env={"ZHUB_DATA_DIR": str(hub.tmp) + "/other"})
    sync.stop()
    crm_webhook(hub, deal["id"], "presentationscheduled")
    wait_until(lambda: bird_attributes().get("hubspot_deal_stage") == "presentationscheduled",
               what="the stage on the Bird contact (fresh replica)")
    assert other.alive()


def test_stage_map_is_checked_against_the_pipelines_at_start(hub, tmp_path):
    hub.start_peer("hubspot")
    hub.start_peer("bird")
    hub.start("broker")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"deal": {"stages": {"application": "applicationsent"}}}))
    env = dict(hub.env, ZHUB_MAPPING_FILE=str(mapping))
    out = subprocess.run([os.path.join(BUILD_DIR, "actors", "deal-sync", "zhub-deal-sync")],
                         env=env, capture_output=True, text=True, timeout=20)
    assert out.returncode == 1
    assert "applicationsent" in out.stderr and "event=config_invalid" in out.stderr
    mapping.write_text(json.dumps({"deal": {"stages": {"application": "presentationscheduled"}}}))
    sync = hub.start("deal-sync", extra_env={"ZHUB_MAPPING_FILE": str(mapping)})
    bird_id, _ = seed_contact(hub)
    stage_changed(hub, bird_id, "application")
    wait_stage(hub, bird_id, "presentationscheduled")
    assert sync.alive()


def test_three_replicas_never_create_two_deals(hub):
    replicas = start_stack(hub, replicas=3)
    birds = [seed_contact(hub, "Cliente %d" % i, "+52155%08d" % i)[0] for i in range(6)]
    for stage in ("lead", "qualified", "application"):
        for bird_id in birds:
            stage_changed(hub, bird_id, stage)
    for bird_id in birds:
        wait_stage(hub, bird_id, "contractsent", timeout=20)
    assert len(deals(hub)) == len(birds)
    assert all(r.alive() for r in replicas)


def test_a_deal_is_looked_up_by_its_key_in_the_body_never_in_the_path(hub):
    """The key holds a "/": HubSpot's front end refuses %2F in a path
    segment, and a failed lookup taken for "no deal yet" would upsert a new
    deal's properties over a stage a person set."""
    sync, = start_stack(hub)
    bird_id, _ = seed_contact(hub)
    stage_changed(hub, bird_id, "application")
    deal = wait_stage(hub, bird_id, "contractsent")
    ui_edit_stage(hub, deal["id"], "closedwon")  # a person closes it
    stage_changed(hub, bird_id, "qualified")     # a late AI event
    wait_handled(sync, 2)
    assert "skipped=" in handled_lines(sync)[-1], handled_lines(sync)[-1]
    assert deal_of(hub, bird_id)["properties"]["dealstage"] == "closedwon"
    assert len(deals(hub)) == 1
    reads = peer_requests(hub, "hubspot", "/crm/v3/objects/deals/batch/read", "POST")
    assert len(reads) == 2
    assert reads[0]["body"]["idProperty"] == "zhub_deal_key"
    assert reads[0]["body"]["inputs"] == [{"id": bird_id + "/default"}]
    assert reads[0]["body"]["propertiesWithHistory"] == ["dealstage"]
    assert not [r for r in peer_requests(hub, "hubspot") if "%2f" in r["path"].lower()]
    # the late event wrote its other properties, never a new deal's
    last = peer_requests(hub, "hubspot", "/crm/v3/objects/deals/batch/upsert", "POST")[-1]
    assert "dealstage" not in last["body"]["inputs"][0]["properties"]
    assert "dealname" not in last["body"]["inputs"][0]["properties"]


def test_a_failed_lookup_is_never_taken_for_no_deal(hub):
    sync, = start_stack(hub)
    bird_id, _ = seed_contact(hub)
    stage_changed(hub, bird_id, "application")
    wait_stage(hub, bird_id, "contractsent")
    upserts = len(peer_requests(hub, "hubspot", "/crm/v3/objects/deals/batch/upsert", "POST"))
    # a 404 that is not HubSpot's OBJECT_NOT_FOUND (a front end's, a proxy's)
    peer_fault(hub, "hubspot", status=404, path_prefix="/crm/v3/objects/deals/batch/read")
    stage_changed(hub, bird_id, "lead")
    wait_handled(sync, 2)
    line = handled_lines(sync)[-1]
    assert "outcome=rejected" in line and "code=404" in line, line
    assert len(peer_requests(hub, "hubspot", "/crm/v3/objects/deals/batch/upsert",
                             "POST")) == upserts
    assert deal_of(hub, bird_id)["properties"]["dealstage"] == "contractsent"


def test_association_ids_sent_as_strings_are_read(hub):
    """toObjectId is a string in newer rollouts of the associations v4 spec."""
    start_stack(hub, hubspot_args=("--v4-object-ids", "string"))
    bird_id, contact_id = seed_contact(hub)
    # a deal a person made in HubSpot (no zhub_deal_key), on the contact
    status, deal = http("POST", hub.peers["hubspot"] + "/crm/v3/objects/deals", {"properties": {
        "dealname": "Walk-in", "dealstage": "qualifiedtobuy"}}, HUBSPOT_AUTH)
    assert status == 201
    status, _ = http("PUT", "%s/crm/v4/objects/deals/%s/associations/default/contacts/%s"
                     % (hub.peers["hubspot"], deal["id"], contact_id), headers=HUBSPOT_AUTH)
    assert status == 200
    ui_edit_stage(hub, deal["id"], "presentationscheduled")
    crm_webhook(hub, deal["id"], "presentationscheduled")

    def bird_stage():
        for contact in peer_state(hub, "bird")["contacts"]:
            if contact["id"] == bird_id:
                return contact["attributes"].get("hubspot_deal_stage")
    wait_until(bird_stage, what="the stage on the Bird contact")
    assert bird_stage() == "presentationscheduled"
